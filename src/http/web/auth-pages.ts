/**
 * Sign-in and first-run setup. The setup page creates the owner from the one-time code that
 * `serve` printed (its URL carries it as `?code=`), then signs in with the new account.
 */
import { setupStatusSchema } from "../../protocol/index.ts";
import { api, messageOf } from "./api.ts";
import { field, h } from "./dom.ts";
import { navigate, type Page, render } from "./router.ts";
import { signIn } from "./session.ts";

let signInMessage = "";
/** A reason shown on the next sign-in form (session ended, user removed, …). */
export function setSignInMessage(message: string) {
  signInMessage = message;
}

function credentials(passwordAutocomplete: string) {
  const username = h("input", { type: "text", name: "username", autocomplete: "username", required: true });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: passwordAutocomplete,
    required: true,
  });
  return { username, password };
}

/** Whether the station still waits for its owner; undefined when it cannot tell. */
async function setupRequired(): Promise<boolean | undefined> {
  try {
    return (await api("/api/setup", { schema: setupStatusSchema })).required;
  } catch {
    return undefined;
  }
}

export const signInPage: Page = {
  title: "Sign in",
  access: "public",
  render(view) {
    const { username, password } = credentials("current-password");
    const error = h("p", { class: "error", role: "alert" }, signInMessage);
    signInMessage = "";
    const hint = h("p", { class: "muted", hidden: true });
    const form = h(
      "form",
      { class: "card narrow", id: "sign-in" },
      h("h2", {}, "Sign in"),
      field("Username", username),
      field("Password", password),
      h("p", {}, h("button", { type: "submit" }, "Sign in")),
      error,
      hint,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      try {
        await signIn(username.value, password.value);
        password.value = "";
        if (location.pathname === "/setup" || location.pathname === "/sign-in") navigate("/", true);
        else render();
      } catch (err) {
        error.textContent = messageOf(err);
      }
    });
    view.append(form);
    void setupRequired().then((required) => {
      if (!required || !form.isConnected) return;
      hint.hidden = false;
      hint.append(
        "This station has no owner yet. Open the setup link that ",
        h("code", {}, "opengenie serve"),
        " printed (the code is also in ",
        h("code", {}, "<data-dir>/setup-code"),
        ").",
      );
    });
    return undefined;
  },
};

export const setupPage: Page = {
  title: "Set up the station",
  access: "public",
  render(view, _params, query) {
    const code = h("input", {
      type: "text",
      name: "code",
      autocomplete: "one-time-code",
      required: true,
      value: query.get("code") ?? "",
    });
    const { username, password } = credentials("new-password");
    password.minLength = 8;
    const error = h("p", { class: "error", role: "alert" });
    const form = h(
      "form",
      { class: "card narrow", id: "setup" },
      h("h2", {}, "Set up the station"),
      h("p", { class: "muted" }, "Create the owner account. The owner can add other people later."),
      field(
        "Setup code",
        code,
        "Printed by the station at its first start, and kept in <data-dir>/setup-code.",
      ),
      field("Username", username),
      field("Password", password, "At least 8 characters."),
      h("p", {}, h("button", { type: "submit" }, "Create owner")),
      error,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      try {
        await api("/api/setup", {
          body: { code: code.value.trim(), username: username.value, password: password.value },
        });
        await signIn(username.value, password.value);
        navigate("/", true);
      } catch (err) {
        error.textContent = messageOf(err);
      }
    });
    view.append(form);
    void setupRequired().then((required) => {
      if (required !== false || !form.isConnected) return;
      view.replaceChildren(
        h(
          "section",
          { class: "card narrow" },
          h("h2", {}, "Already set up"),
          h("p", {}, "This station already has an owner, so the setup code is gone. "),
          h("p", {}, h("a", { href: "/" }, "Sign in")),
        ),
      );
    });
    return undefined;
  },
};
