/**
 * The embedded web app, served for every path outside /api, /ws*, /driver and /metrics, with
 * index.html for unknown paths so client-side routes survive a reload.
 */
const indexHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OpenGenie Station</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
  main { max-width: 40rem; margin: 3rem auto; padding: 0 1rem; }
  form, .card { background: #fff; border-radius: 12px; padding: 1.25rem; box-shadow: 0 1px 3px #0002; }
  label { display: block; margin: .5rem 0; }
  input { display: block; width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }
  button { margin-top: .75rem; padding: .5rem 1.25rem; font-size: 1rem; }
  .error { color: #b00020; }
</style>
</head>
<body>
<main>
  <h1>OpenGenie Station</h1>
  <form id="sign-in">
    <label for="username">Username</label>
    <input id="username" name="username" autocomplete="username" required>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">Sign in</button>
    <p class="error" id="error" role="alert"></p>
  </form>
  <section id="home" class="card" hidden>
    <p id="welcome"></p>
  </section>
</main>
<script>
  const form = document.getElementById("sign-in");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { username: form.username.value, password: form.password.value };
    const res = await fetch("/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) { document.getElementById("error").textContent = json.error.message; return; }
    sessionStorage.setItem("opengenie.token", json.accessToken);
    form.hidden = true;
    document.getElementById("home").hidden = false;
    document.getElementById("welcome").textContent = "Signed in as " + json.user.username + " (" + json.user.role + ")";
  });
</script>
</body>
</html>
`;

export function webAppResponse(): Response {
  return new Response(indexHtml, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
    },
  });
}
