/** Tiny DOM helpers for the web app: elements built from props and children, no framework. */

export type Child = Node | string | number | null | undefined | false;
type Props = Record<string, unknown>;

/**
 * `h("button", { type: "button", onclick: fn, "aria-label": "x" }, "text")`. Keys with a dash,
 * `role` and `for` become attributes; `class` sets className; `on…` functions are listeners;
 * everything else is assigned as a property (value, checked, hidden, disabled, …).
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = String(value);
    else if (key.startsWith("on") && typeof value === "function")
      el.addEventListener(key.slice(2), value as EventListener);
    else if (key.includes("-") || key === "role" || key === "for") el.setAttribute(key, String(value));
    else (el as unknown as Record<string, unknown>)[key] = value;
  }
  append(el, ...children);
  return el;
}

export function append(parent: Element, ...children: Child[]) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from app.html`);
  return el as T;
}

/** "5 s ago", "3 min ago", … for last-seen times; absolute date past a day. */
export function ago(at: number | null | undefined, now = Date.now()): string {
  if (!at) return "never";
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return new Date(at).toLocaleString();
}

/** A field: a visible label bound to its input, as axe and screen readers want it. */
export function field(
  label: string,
  input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string,
) {
  if (!input.id) input.id = `f-${Math.random().toString(36).slice(2, 10)}`;
  const hintEl = hint ? h("small", { class: "hint", id: `${input.id}-hint` }, hint) : undefined;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hintEl);
}
