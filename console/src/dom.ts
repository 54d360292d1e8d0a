// Building DOM nodes: attributes and children, text always as text (never as HTML).

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v !== undefined) node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

/** A labelled form field: the label names the control (for screen readers and tests). */
export function field(id: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  control.id = id;
  const wrap = el("p", { class: "field" }, el("label", { for: id }, label), control);
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    wrap.append(el("span", { id: hintId, class: "hint" }, hint));
  }
  return wrap;
}

/** A modal dialog (native <dialog>: focus moves in, Escape closes, focus returns). */
export function dialog(title: string, ...content: Node[]): HTMLDialogElement {
  const id = `dialog-${Math.random().toString(36).slice(2)}`;
  const d = el("dialog", { "aria-labelledby": id }, el("h2", { id }, title), ...content);
  d.addEventListener("close", () => d.remove());
  document.body.append(d);
  d.showModal();
  return d;
}
