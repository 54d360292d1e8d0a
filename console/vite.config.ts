import { defineConfig } from "vite";

// Served from the API's origin under /console/ (the local gateway in `make dev`).
export default defineConfig({
  base: "/console/",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: false },
});
