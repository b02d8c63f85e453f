/**
 * Long-lived access tokens: create (the token is shown once, with a Copy button), list,
 * revoke. For scripts, the firmware simulator and integrations.
 */
import {
  type AccessTokenInfo as AccessToken,
  createdTokenSchema,
  tokenListSchema,
} from "../../protocol/index.ts";
import { api, messageOf } from "./api.ts";
import { ago, field, h } from "./dom.ts";
import type { Page } from "./router.ts";

export const tokensPage: Page = {
  title: "Access tokens",
  access: "admin",
  render(view) {
    const status = h("p", { class: "cmd", role: "status" });
    const list = h("ul", { class: "rows", "aria-label": "Access tokens" });
    const label = h("input", { type: "text", required: true, maxLength: 64 });
    const days = h("input", { type: "number", min: "1", max: "3650", value: "365", inputMode: "numeric" });
    const created = h("div", { class: "secret", hidden: true });
    const form = h(
      "form",
      { class: "card" },
      h("h3", {}, "Create a token"),
      field("Label", label, "What uses it, e.g. “kitchen tablet” or “backup script”."),
      field("Valid for (days)", days),
      h("p", {}, h("button", { type: "submit" }, "Create token")),
      created,
    );
    view.append(
      h("h2", {}, "Access tokens"),
      status,
      form,
      h("section", { class: "card" }, h("h3", {}, "Active tokens"), list),
    );

    async function load() {
      try {
        const { tokens } = await api("/api/tokens", { schema: tokenListSchema });
        list.replaceChildren(
          ...(tokens.length ? tokens.map(row) : [h("li", { class: "muted" }, "No tokens.")]),
        );
      } catch (err) {
        status.textContent = messageOf(err);
      }
    }

    function row(t: AccessToken) {
      const revoke = h("button", { type: "button", class: "danger" }, "Revoke");
      revoke.setAttribute("aria-label", `Revoke ${t.label}`);
      revoke.addEventListener("click", async () => {
        try {
          await api(`/api/tokens/${encodeURIComponent(t.id)}`, { method: "DELETE" });
          status.textContent = `${t.label} was revoked.`;
          await load();
        } catch (err) {
          status.textContent = messageOf(err);
        }
      });
      const expires = t.expiresAt ? `expires ${new Date(t.expiresAt).toLocaleDateString()}` : "never expires";
      return h(
        "li",
        { class: "row-item", "data-label": t.label },
        h(
          "span",
          { class: "grow" },
          h("strong", {}, t.label),
          h("small", { class: "muted" }, ` · ${t.username} · ${expires} · last used ${ago(t.lastSeenAt)}`),
        ),
        revoke,
      );
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const body = await api("/api/tokens", {
          schema: createdTokenSchema,
          body: { label: label.value, ttlDays: Number(days.value) },
        });
        showOnce(created, body.token.label, body.accessToken);
        label.value = "";
        await load();
      } catch (err) {
        status.textContent = messageOf(err);
      }
    });
    void load();
    return () => created.replaceChildren();
  },
};

/** The new token, once: it is not stored here and cannot be shown again. */
function showOnce(box: HTMLElement, label: string, secret: string) {
  const value = h("textarea", { readOnly: true, rows: 3, value: secret, class: "token", spellcheck: false });
  const copyStatus = h("span", { role: "status" });
  const copy = h("button", { type: "button" }, "Copy");
  copy.addEventListener("click", async () => {
    value.select();
    try {
      await navigator.clipboard.writeText(secret);
      copyStatus.textContent = " Copied.";
    } catch {
      copyStatus.textContent = " Selected: press Ctrl+C (or long-press) to copy.";
    }
  });
  box.hidden = false;
  box.replaceChildren(
    h("p", {}, h("strong", {}, `Token for ${label}`), ": copy it now, it is shown only once."),
    field("New token", value),
    h("p", {}, copy, copyStatus),
  );
  value.focus();
  value.select();
}
