// Sign-in. A deployment puts a config.json next to index.html; with an `oidc` issuer in it,
// the console signs in with OpenID Connect (authorization code + PKCE, oidc-client-ts) and
// sends the ID token as the bearer (it carries the e-mail, tenant and groups the API reads).
// Without config.json, or without `oidc`, the local demo identities of `make dev` are used.
// oidc-client-ts is loaded only when an issuer is configured, so the local sign-in does not
// download it.
import type { UserManager } from "oidc-client-ts";

export interface OidcConfig {
  /** The issuer, e.g. https://cognito-idp.<region>.amazonaws.com/<user pool id>. */
  authority: string;
  /** The app client id (the API's JWT audience). */
  clientId: string;
  /** Scopes to ask for; default "openid email profile". */
  scope?: string;
}

export interface Config {
  /** The API's base URL; default the console's own origin. */
  apiUrl?: string;
  oidc?: OidcConfig;
}

/** config.json next to the page, or {} when there is none (a missing file may come back
 * as the page itself, so anything that is not a JSON object counts as none). */
export async function loadConfig(): Promise<Config> {
  try {
    const answer = await fetch("./config.json", { cache: "no-cache" });
    if (!answer.ok || !(answer.headers.get("content-type") ?? "").includes("json")) return {};
    const config: unknown = await answer.json();
    if (!config || typeof config !== "object" || Array.isArray(config)) return {};
    const { apiUrl, oidc } = config as Record<string, unknown>;
    const result: Config = {};
    if (typeof apiUrl === "string" && apiUrl) result.apiUrl = apiUrl;
    if (oidc && typeof oidc === "object") {
      const { authority, clientId, scope } = oidc as Record<string, unknown>;
      if (typeof authority === "string" && typeof clientId === "string" && authority && clientId) {
        result.oidc = { authority, clientId, ...(typeof scope === "string" && scope ? { scope } : {}) };
      }
    }
    return result;
  } catch {
    return {};
  }
}

export interface OidcSession {
  /** Why the return from the issuer did not sign anyone in, if it did not. */
  failure: string | null;
  /** The ID token of the signed-in person, or null (also once it has expired). */
  current(): Promise<string | null>;
  /** Leaves for the issuer's sign-in page (the page unloads). */
  signIn(): Promise<void>;
  /** Forgets the person here, then ends the issuer's session: at its end_session_endpoint,
   * or Cognito's /logout (the page then unloads). */
  signOut(): Promise<void>;
}

/** The console's own address: where the issuer sends the browser back (the app client's
 * registered callback URL). */
function ownUrl(): string {
  return location.origin + location.pathname;
}

/** Starts the OpenID Connect sign-in: completes a return from the issuer (`?code=` or
 * `?error=`, then removed from the address bar) and restores a signed-in person. */
export async function oidcSession(config: OidcConfig): Promise<OidcSession> {
  const { UserManager, WebStorageStateStore } = await import("oidc-client-ts");
  const store = new WebStorageStateStore({ store: window.sessionStorage });
  const manager: UserManager = new UserManager({
    authority: config.authority,
    client_id: config.clientId,
    redirect_uri: ownUrl(),
    post_logout_redirect_uri: ownUrl(),
    response_type: "code",
    scope: config.scope ?? "openid email profile",
    userStore: store,
    stateStore: store,
    automaticSilentRenew: false,
    loadUserInfo: false,
  });
  let failure: string | null = null;
  const query = new URLSearchParams(location.search);
  if (query.has("state") && (query.has("code") || query.has("error"))) {
    try {
      await manager.signinRedirectCallback();
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
    }
    history.replaceState(history.state, "", ownUrl() + location.hash);
  }
  return {
    failure,
    async current() {
      const user = await manager.getUser();
      if (user && !user.expired && user.id_token) return user.id_token;
      if (user) await manager.removeUser();
      return null;
    },
    async signIn() {
      // A nonce binds the ID token to this sign-in (oidc-client-ts checks it on return).
      const nonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
      await manager.signinRedirect({ nonce });
    },
    async signOut() {
      const user = await manager.getUser();
      await manager.removeUser();
      if (!user) return;
      const issuer = await manager.metadataService.getMetadata().catch(() => null);
      if (issuer?.end_session_endpoint) {
        await manager.signoutRedirect(user.id_token ? { id_token_hint: user.id_token } : {});
      } else if (issuer?.authorization_endpoint && new URL(issuer.authorization_endpoint).pathname === "/oauth2/authorize") {
        // Cognito's hosted sign-in names no end_session_endpoint: its /logout ends the
        // session and returns to logout_uri (one of the app client's sign-out URLs).
        const logout = new URL("/logout", issuer.authorization_endpoint);
        logout.search = new URLSearchParams({ client_id: config.clientId, logout_uri: ownUrl() }).toString();
        location.assign(logout.href);
      }
    },
  };
}
