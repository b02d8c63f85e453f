/**
 * Users and roles (admin): add, change role, remove. The station enforces who may do what
 * (only an owner touches owners and admins, the last owner stays); this page shows its answer.
 */

import { type UserRecord as User, userListSchema } from "../../protocol/index.ts";
import { ROLES, type Role } from "./admin-types.ts";
import { api, messageOf } from "./api.ts";
import { ago, field, h } from "./dom.ts";
import type { Page } from "./router.ts";
import { currentUser } from "./session.ts";

export const usersPage: Page = {
  title: "Users",
  access: "admin",
  render(view) {
    const status = h("p", { class: "cmd", role: "status" });
    const list = h("ul", { class: "rows", "aria-label": "Users" });
    const username = h("input", { type: "text", required: true, maxLength: 64, autocomplete: "off" });
    const password = h("input", {
      type: "password",
      required: true,
      minLength: 8,
      autocomplete: "new-password",
    });
    const role = roleSelect("member");
    const form = h(
      "form",
      { class: "card" },
      h("h3", {}, "Add a user"),
      field("New username", username),
      field("New password", password, "At least 8 characters; they can sign in with it at once."),
      field("Role", role),
      h("p", {}, h("button", { type: "submit" }, "Add user")),
    );
    view.append(h("h2", {}, "Users"), status, h("section", { class: "card" }, list), form);

    async function load() {
      try {
        const { users } = await api("/api/users", { schema: userListSchema });
        list.replaceChildren(...users.map(row));
      } catch (err) {
        status.textContent = messageOf(err);
      }
    }

    function row(user: User) {
      const select = roleSelect(user.role);
      select.setAttribute("aria-label", `Role of ${user.username}`);
      select.addEventListener("change", async () => {
        try {
          await api(`/api/users/${encodeURIComponent(user.id)}`, {
            method: "PATCH",
            body: { role: select.value },
          });
          status.textContent = `${user.username} is now ${select.value}.`;
          user.role = select.value as Role;
        } catch (err) {
          select.value = user.role;
          status.textContent = messageOf(err);
        }
      });
      const remove = h("button", { type: "button", class: "danger" }, "Remove");
      remove.setAttribute("aria-label", `Remove ${user.username}`);
      remove.addEventListener("click", async () => {
        if (remove.dataset.armed !== "yes") {
          remove.dataset.armed = "yes";
          remove.textContent = "Really remove?";
          remove.setAttribute("aria-label", `Really remove ${user.username}?`);
          return;
        }
        try {
          await api(`/api/users/${encodeURIComponent(user.id)}`, { method: "DELETE" });
          status.textContent = `${user.username} was removed; their sessions are closed.`;
          await load();
        } catch (err) {
          status.textContent = messageOf(err);
        }
      });
      const me = currentUser()?.id === user.id;
      return h(
        "li",
        { class: "row-item", "data-username": user.username },
        h(
          "span",
          { class: "grow" },
          h("strong", {}, user.username),
          me ? " (you)" : "",
          user.createdAt ? h("small", { class: "muted" }, ` · added ${ago(user.createdAt)}`) : null,
        ),
        select,
        remove,
      );
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api("/api/users", {
          body: { username: username.value, password: password.value, role: role.value },
        });
        status.textContent = `${username.value} was added as ${role.value}.`;
        username.value = "";
        password.value = "";
        await load();
      } catch (err) {
        status.textContent = messageOf(err);
      }
    });
    void load();
    return undefined;
  },
};

function roleSelect(selected: Role) {
  return h("select", {}, ...ROLES.map((r) => h("option", { value: r, selected: r === selected }, r)));
}
