// What every dialog of User Management does alike: a form with Cancel, or a question to
// confirm; a submission whose refusal is shown in the dialog and whose success closes it and
// reloads the page; and a live preview a moment after the last change.
import { dialog, el, field } from "./dom";
import { t, type Lang } from "./i18n";
import { refusal } from "./refusal";

/** Shows User Management again (the same page); `said` is announced once it is shown. */
export type Reload = (said?: string) => void;

/** An answer of the API client (openapi-fetch): data, or a problem document, and the response. */
export interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** A submission not done: the problem (or what was thrown when no answer came) and the response, if any. */
export interface Refused {
  error: unknown;
  response?: Response;
}

export interface Submission<T> {
  lang: Lang;
  /** The dialog that closes on success; none for an action taken in place (Resend). */
  dialog?: HTMLDialogElement;
  /** What one submission at a time is counted by: the dialog, else `place`. */
  key?: object;
  /** Where a refusal is shown (in the dialog). */
  place: HTMLElement;
  send: () => Promise<Answer<T>>;
  reload: Reload;
  /** What the reloaded page announces. */
  said?: (data: T | undefined) => string;
  /** A refusal in other words than refusal()'s. */
  explain?: (refused: Refused) => Node | string;
}

/** "done", "busy" (a submission of the same dialog is still under way, so none was sent), or the refusal. */
export type Outcome = "done" | "busy" | Refused;

const sending = new WeakSet<object>();

/** Sends a dialog's request once at a time: on success the dialog closes and the page reloads
 * with `said`; a refusal (problem+json, or no answer at all) is shown in `place` and returned. */
export async function submit<T>(s: Submission<T>): Promise<Outcome> {
  const key = s.key ?? s.dialog ?? s.place;
  if (sending.has(key)) return "busy";
  sending.add(key);
  let refused: Refused;
  try {
    const answer = await s.send();
    if (answer.response.ok) {
      s.dialog?.close();
      s.reload(s.said?.(answer.data));
      return "done";
    }
    refused = { error: answer.error, response: answer.response };
  } catch (e) {
    refused = { error: e instanceof Error ? e.message : e };
  } finally {
    sending.delete(key);
  }
  s.place.replaceChildren(s.explain ? s.explain(refused) : refusal(s.lang, refused.error, refused.response));
  return refused;
}

export interface FormParts {
  lang: Lang;
  title: string;
  submitLabel: string;
  fields: Node[];
  /** Where refusals (and a preview) show; a plain container by default. */
  place?: HTMLElement;
  onSubmit: (parts: FormDialog) => void;
}

export interface FormDialog {
  dialog: HTMLDialogElement;
  form: HTMLFormElement;
  place: HTMLElement;
  submit: HTMLButtonElement;
}

/** A modal form: its fields, the place for answers, the submit button and Cancel. */
export function formDialog(p: FormParts): FormDialog {
  const place = p.place ?? el("div");
  const submitButton = el("button", { type: "submit" }, p.submitLabel);
  const cancel = el("button", { type: "button" }, t(p.lang).cancel);
  const form = el("form", {}, ...p.fields, place, submitButton, cancel);
  const parts: FormDialog = { dialog: dialog(p.title, form), form, place, submit: submitButton };
  cancel.addEventListener("click", () => parts.dialog.close());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    p.onSubmit(parts);
  });
  return parts;
}

/** The texts of a secret shown once. */
export interface ShownOnce {
  title: string;
  warning: string;
  label: string;
  copyByHand: string;
}

/** A secret, this once: a warning, the value to copy, and Close (`closed` then shows the list). */
export function shownOnceDialog(lang: Lang, id: string, texts: ShownOnce, secret: string, closed: () => void): void {
  const tx = t(lang);
  const value = el("input", { type: "text", readonly: "", value: secret, class: "secret", spellcheck: "false" });
  const copied = el("span", { role: "status" });
  const copy = el("button", { type: "button" }, tx.copy);
  copy.addEventListener("click", () => {
    value.select();
    navigator.clipboard
      .writeText(secret)
      .then(() => (copied.textContent = tx.copied))
      .catch(() => (copied.textContent = texts.copyByHand));
  });
  const close = el("button", { type: "button" }, tx.close);
  const d = dialog(
    texts.title,
    el("p", { class: "warning", role: "note" }, `⚠ ${texts.warning}`),
    field(id, texts.label, value),
    el("p", {}, copy, " ", copied),
    el("p", {}, close),
  );
  d.addEventListener("close", closed);
  close.addEventListener("click", () => d.close());
  value.focus();
}

/** A question to confirm (focus on Cancel); `yes` gets the dialog and the place for a refusal. */
export function confirmDialog(lang: Lang, title: string, question: string, yesLabel: string, yes: (d: HTMLDialogElement, place: HTMLElement) => void): void {
  const tx = t(lang);
  const yesButton = el("button", { type: "button" }, yesLabel);
  const no = el("button", { type: "button" }, tx.cancel);
  const place = el("div");
  const d = dialog(title, el("p", {}, question), place, yesButton, no);
  no.focus();
  no.addEventListener("click", () => d.close());
  yesButton.addEventListener("click", () => yes(d, place));
}

export interface PreviewOf<T> {
  dialog: HTMLDialogElement;
  /** The preview's live region: emptied when there is nothing to ask, busy while asking. */
  place: HTMLElement;
  /** Milliseconds after the last change (a preview is a request, so not on every key). */
  delay: number;
  /** The request, or null when there is nothing to preview. */
  ask: () => Promise<T> | null;
  /** Shows the answer to the latest request. */
  show: (answer: T) => void;
  /** Shows why the latest request got no answer. */
  fail: (error: unknown) => void;
}

export interface Preview {
  /** Asks `delay` ms after the last call: a newer call restarts the wait. */
  soon(): void;
  /** Asks at once. */
  now(): Promise<void>;
  /** Clears the wait and outdates any answer under way (also when the dialog closes). */
  stop(): void;
}

/** A debounced live preview: only the latest request's answer is shown; an answer that arrives
 * after a newer change, a stop or the dialog's closing is dropped. */
export function livePreview<T>(p: PreviewOf<T>): Preview {
  let timer: number | undefined;
  let asked = 0;
  const stop = () => {
    window.clearTimeout(timer);
    timer = undefined;
    asked++;
    p.place.removeAttribute("aria-busy");
  };
  const now = async () => {
    stop();
    const mine = asked;
    const current = () => mine === asked && p.dialog.open;
    const request = p.ask();
    if (!request) {
      p.place.replaceChildren();
      return;
    }
    p.place.setAttribute("aria-busy", "true");
    try {
      const answer = await request;
      if (current()) p.show(answer);
    } catch (e) {
      if (current()) p.fail(e);
    } finally {
      if (current()) p.place.removeAttribute("aria-busy");
    }
  };
  p.dialog.addEventListener("close", stop);
  const soon = () => {
    stop();
    timer = window.setTimeout(() => void now(), p.delay);
  };
  return { soon, now, stop };
}
