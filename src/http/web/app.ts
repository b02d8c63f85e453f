/**
 * The web app's entry (bundled for the browser by `bun build.ts --web` into
 * app-script.generated.ts). Plain TypeScript and DOM: one file per page or concern, history
 * routing, REST for reads and commands, the typed /ws client (src/client) for live updates.
 */
import "../../protocol/zod-jitless.ts"; // first: before any zod schema parses (CSP: no eval)
import { setSignInMessage, setupPage, signInPage } from "./auth-pages.ts";
import { automationPage, newAutomationPage } from "./automation-page.ts";
import { automationsPage } from "./automations-page.ts";
import { devicePage } from "./device-page.ts";
import { clearDevices, followDevices } from "./device-store.ts";
import { devicesPage } from "./devices-page.ts";
import { diagnosticsPage } from "./diagnostics-page.ts";
import { byId, h } from "./dom.ts";
import { pairingPage } from "./pairing-page.ts";
import { render, route, startRouter } from "./router.ts";
import { currentUser, hasRole, onConnectionState, onSignedOut, signOut, startLive } from "./session.ts";
import { stationPage } from "./station-page.ts";
import { tokensPage } from "./tokens-page.ts";
import { usersPage } from "./users-page.ts";

route("/", devicesPage);
route("/devices/:id", devicePage);
route("/automations", automationsPage);
route("/automations/new", newAutomationPage);
route("/automations/:id", automationPage);
route("/pair", pairingPage);
route("/users", usersPage);
route("/tokens", tokensPage);
route("/station", stationPage);
route("/diagnostics", diagnosticsPage);
route("/setup", setupPage);
route("/sign-in", signInPage);

const NAV: { path: string; label: string; admin: boolean; member?: boolean }[] = [
  { path: "/", label: "Devices", admin: false },
  { path: "/automations", label: "Automations", admin: false, member: true },
  { path: "/pair", label: "Pair", admin: true },
  { path: "/users", label: "Users", admin: true },
  { path: "/tokens", label: "Tokens", admin: true },
  { path: "/station", label: "Station", admin: true },
  { path: "/diagnostics", label: "Diagnostics", admin: true },
];

/** Header: the nav for this user's role, who is signed in, the current page marked. */
function updateChrome(path = location.pathname) {
  const user = currentUser();
  const nav = byId("nav");
  nav.hidden = !user;
  byId("account").hidden = !user;
  if (!user) {
    byId("offline").hidden = true;
    return;
  }
  byId("who").textContent = `${user.username} (${user.role})`;
  nav.replaceChildren(
    h(
      "ul",
      {},
      ...NAV.filter((n) => (!n.admin || hasRole("admin")) && (!n.member || hasRole("member"))).map((n) => {
        const current =
          n.path === "/" ? path === "/" || path.startsWith("/devices/") : path.startsWith(n.path);
        return h("li", {}, h("a", { href: n.path, "aria-current": current ? "page" : undefined }, n.label));
      }),
    ),
  );
}

onSignedOut((message) => {
  clearDevices();
  setSignInMessage(message);
  render();
});

onConnectionState((state) => {
  const offline = byId("offline");
  const signedIn = !!currentUser();
  byId("connection").textContent =
    state === "open" ? "live" : state === "connecting" ? "connecting…" : signedIn ? "offline" : "";
  offline.hidden = !signedIn || state === "open" || state === "connecting" || state === "idle";
});

byId("sign-out").addEventListener("click", () => signOut("", true));

followDevices();
if (currentUser()) startLive();
startRouter(byId("view"), signInPage, updateChrome);
