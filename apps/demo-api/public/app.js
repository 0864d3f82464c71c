// The "Your devices" page. It never sees the session token: the browser keeps it
// in an httpOnly cookie and sends it with each same-origin request.
const $ = (id) => document.getElementById(id);
const status = (text) => {
  $("status").textContent = text;
};

class SignedOut extends Error {}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const payload = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "/auth/login") {
    showLogin(
      payload.error?.code === "ERR_SESSION_EXPIRED"
        ? "Your session expired. Please log in again."
        : "You are signed out.",
    );
    throw new SignedOut();
  }
  if (!response.ok) throw new Error(payload.error?.message ?? `request failed (${response.status})`);
  return payload;
}

function showLogin(message) {
  $("account").hidden = true;
  $("whoami").hidden = true;
  $("login").hidden = false;
  status(message ?? "");
  $("userId").focus();
}

const when = (ms) => new Date(ms).toLocaleString();

function deviceItem(session) {
  const item = document.createElement("li");
  item.dataset.handle = session.handle;
  const text = document.createElement("div");
  const name = document.createElement("span");
  name.className = "device-name";
  name.textContent = session.device.name ?? "Unnamed device";
  text.append(name);
  if (session.current) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "This device";
    text.append(badge);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = `${session.device.platform ?? "unknown"} · last seen ${when(session.lastSeenAt)} · signed in ${when(session.createdAt)}`;
  text.append(meta);
  item.append(text);
  if (!session.current) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Sign out";
    button.setAttribute("aria-label", `Sign out ${session.device.name ?? "this device"}`);
    button.addEventListener("click", () =>
      act(async () => {
        await api("DELETE", `/sessions/${encodeURIComponent(session.handle)}`);
        status(`Signed out ${session.device.name ?? "that device"}.`);
      }),
    );
    item.append(button);
  }
  return item;
}

async function render() {
  const me = await api("GET", "/me");
  const { sessions } = await api("GET", "/sessions");
  $("login").hidden = true;
  $("account").hidden = false;
  $("whoami").hidden = false;
  $("whoami").textContent = `Signed in as ${me.userId}`;
  $("devices").replaceChildren(...sessions.map(deviceItem));
  const info = JSON.stringify(me.userInfo ?? {}, null, 2);
  $("user-info").textContent = info;
  if (document.activeElement !== $("info-json")) $("info-json").value = info;
}

/** Runs an action, then redraws; a 401 anywhere lands on the login form. */
async function act(action) {
  try {
    await action();
    await render();
  } catch (error) {
    if (!(error instanceof SignedOut)) status(error.message);
  }
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  act(async () => {
    const body = { userId: form.get("userId"), password: form.get("password") };
    if (form.get("deviceName")) body.deviceName = form.get("deviceName");
    await api("POST", "/auth/login", body);
    $("password").value = "";
    status("");
  });
});
$("refresh").addEventListener("click", () => act(async () => status("")));
$("logout-others").addEventListener("click", () =>
  act(async () => {
    const { removed } = await api("POST", "/auth/logout-others");
    status(`Signed out ${removed} other device${removed === 1 ? "" : "s"}.`);
  }),
);
$("logout-all").addEventListener("click", () => act(() => api("POST", "/auth/logout-all")));
$("logout").addEventListener("click", () => act(() => api("POST", "/auth/logout")));
$("info-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act(async () => {
    let info;
    try {
      info = JSON.parse($("info-json").value);
    } catch {
      throw new Error("Your info must be valid JSON.");
    }
    await api("PUT", "/me/info", info);
    $("info-json").blur();
    status("Info saved.");
  });
});

act(async () => {});
