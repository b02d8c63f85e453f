/**
 * History routing: real paths (`/devices/abc`, `/setup?code=…`), which the station answers
 * with the app for any unknown path, so a reload or a shared link lands on the same page.
 * Each page renders into <main> and returns its cleanup (unsubscribe, timers).
 */
import { hasRole } from "./session.ts";

export type Access = "public" | "signed-in" | "member" | "admin";
export type Cleanup = (() => void) | undefined;

export interface Page {
  title: string;
  access: Access;
  render(view: HTMLElement, params: Record<string, string>, query: URLSearchParams): Cleanup | undefined;
}

interface Route {
  pattern: RegExp;
  keys: string[];
  page: Page;
}

const routes: Route[] = [];
let cleanup: Cleanup;
let signInPage: Page | undefined;
let view: HTMLElement;
let afterRender: (path: string) => void = () => {};

/** `/devices/:id` style patterns. */
export function route(path: string, page: Page) {
  const keys: string[] = [];
  const source = path.replace(/:([a-z]+)/g, (_, key: string) => {
    keys.push(key);
    return "([^/]+)";
  });
  routes.push({ pattern: new RegExp(`^${source}/?$`), keys, page });
}

export function startRouter(main: HTMLElement, signIn: Page, onRendered: (path: string) => void) {
  view = main;
  signInPage = signIn;
  afterRender = onRendered;
  window.addEventListener("popstate", () => render());
  document.addEventListener("click", (event) => {
    const a = (event.target as Element).closest?.("a");
    if (!a || a.target || a.origin !== location.origin || event.metaKey || event.ctrlKey || event.shiftKey)
      return;
    if (a.pathname.startsWith("/api/")) return;
    event.preventDefault();
    navigate(a.pathname + a.search);
  });
  render();
}

export function navigate(path: string, replace = false) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}

/** Renders the page for the current location (again, e.g. after signing in or out). */
export function render() {
  cleanup?.();
  cleanup = undefined;
  const path = location.pathname;
  const match = routes.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m !== null);
  if (!match) {
    // An unknown path (an old link, a typo) lands on the devices.
    history.replaceState(null, "", "/");
    return render();
  }
  let page = match.r.page;
  const params: Record<string, string> = {};
  match.r.keys.forEach((key, i) => {
    params[key] = decodeURIComponent(match.m![i + 1]!);
  });
  if (page.access !== "public" && !hasRole("guest")) page = signInPage!;
  else if (page.access === "admin" && !hasRole("admin")) page = forbidden;
  else if (page.access === "member" && !hasRole("member")) page = membersOnly;
  document.title = `${page.title} · OpenGenie Station`;
  view.replaceChildren();
  cleanup = page.render(view, params, new URLSearchParams(location.search));
  // Moves focus to the new page's heading, so keyboard and screen-reader users start there.
  const heading = view.querySelector<HTMLElement>("h2");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  afterRender(path);
}

const forbidden: Page = {
  title: "Admins only",
  access: "signed-in",
  render(v) {
    v.innerHTML =
      '<h2>Admins only</h2><p>This page is for the owner and admins. <a href="/">Back to the devices</a>.</p>';
    return undefined;
  },
};

const membersOnly: Page = {
  title: "Members only",
  access: "signed-in",
  render(v) {
    v.innerHTML =
      '<h2>Members only</h2><p>Guests cannot see this page; ask an admin for the member role. <a href="/">Back to the devices</a>.</p>';
    return undefined;
  },
};
