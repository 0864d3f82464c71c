// The "Your devices" page. It never sees the session token: the browser keeps it
// in an httpOnly cookie and sends it with each same-origin request.
import { relativeTime } from "/relative-time.js";

const $ = (id) => document.getElementById(id);
const status = (text) => {
  $("status").textContent = text;
};

// Whether this browser was signed in when it last looked. A 401 then means the session ended (signed out
// elsewhere, or expired) and the page says so; on a first visit a 401 only means "not logged in yet".
const SIGNED_IN = "multisession-demo:signed-in";
const remember = (signedIn) => {
  try {
    if (signedIn) localStorage.setItem(SIGNED_IN, "1");
    else localStorage.removeItem(SIGNED_IN);
  } catch {
    // storage refused (a private window): the page only loses the "you were signed out" message
  }
};
const wasSignedIn = () => {
  try {
    return localStorage.getItem(SIGNED_IN) === "1";
  } catch {
    return false;
  }
};

/** The fields of the user info the page edits; any other key is kept as it is and listed read-only. */
const INFO_FIELDS = ["displayName", "email", "theme"];

let userInfo = {};
let deviceCount = 0;

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
    let message = "";
    if (wasSignedIn()) {
      message =
        payload.error?.code === "ERR_SESSION_EXPIRED"
          ? "Your session expired. Please log in again."
          : "You were signed out. Please log in again.";
    }
    showLogin(message);
    throw new SignedOut();
  }
  if (!response.ok) throw new Error(payload.error?.message ?? `request failed (${response.status})`);
  return payload;
}

function showLogin(message) {
  remember(false);
  $("account").hidden = true;
  $("whoami").hidden = true;
  $("login").hidden = false;
  delete document.documentElement.dataset.theme;
  status(message);
  $("userId").focus();
}

/** A `<time>` that says "2 minutes ago" and keeps saying the truth (see the timer at the bottom). */
function timeAgo(ms) {
  const time = document.createElement("time");
  time.dateTime = new Date(ms).toISOString();
  time.title = new Date(ms).toLocaleString();
  time.dataset.at = String(ms);
  time.textContent = relativeTime(ms);
  return time;
}

function refreshTimes() {
  for (const time of document.querySelectorAll("time[data-at]")) {
    time.textContent = relativeTime(Number(time.dataset.at));
  }
}

/** "Chrome 131 on macOS", from the names the API read from the device's user agent. */
function softwareOf(session) {
  const { browser, os } = session;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? "Unknown browser";
}

function deviceItem(session) {
  const item = document.createElement("li");
  item.dataset.handle = session.handle;
  item.classList.toggle("current", session.current);
  const text = document.createElement("div");
  const title = document.createElement("div");
  const name = document.createElement("span");
  name.className = "device-name";
  name.textContent = session.device.name ?? softwareOf(session);
  title.append(name);
  if (session.current) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "This device";
    title.append(badge);
  }
  text.append(title);
  const software = softwareOf(session);
  if (software !== name.textContent) {
    const line = document.createElement("div");
    line.className = "meta software";
    line.textContent = software;
    text.append(line);
  }
  const seen = document.createElement("div");
  seen.className = "meta seen";
  if (session.current) seen.append("Active now · signed in ", timeAgo(session.createdAt));
  else seen.append("Active ", timeAgo(session.lastSeenAt), " · signed in ", timeAgo(session.createdAt));
  text.append(seen);
  item.append(text);
  if (!session.current) {
    const label = session.device.name ?? "this device";
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Sign out";
    button.setAttribute("aria-label", `Sign out ${label}`);
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

function showInfo(info) {
  userInfo = info && typeof info === "object" && !Array.isArray(info) ? info : {};
  const form = $("info-form");
  if (!form.dataset.dirty) {
    for (const field of INFO_FIELDS) {
      const value = userInfo[field];
      form.elements[field].value = typeof value === "string" ? value : "";
    }
  }
  const others = Object.entries(userInfo).filter(([key]) => !INFO_FIELDS.includes(key));
  $("other-info").hidden = others.length === 0;
  $("other-info-list").replaceChildren(
    ...others.flatMap(([key, value]) => {
      const term = document.createElement("dt");
      term.textContent = key;
      const detail = document.createElement("dd");
      detail.textContent = typeof value === "string" ? value : JSON.stringify(value);
      return [term, detail];
    }),
  );
  if (userInfo.theme === "light" || userInfo.theme === "dark") document.documentElement.dataset.theme = userInfo.theme;
  else delete document.documentElement.dataset.theme;
}

async function render() {
  const me = await api("GET", "/me");
  const { sessions } = await api("GET", "/sessions");
  remember(true);
  $("login").hidden = true;
  $("account").hidden = false;
  $("whoami").hidden = false;
  const displayName = typeof me.userInfo?.displayName === "string" ? me.userInfo.displayName : "";
  $("whoami").textContent = displayName ? `Signed in as ${displayName} (${me.userId})` : `Signed in as ${me.userId}`;
  deviceCount = sessions.length;
  // The API lists this device first, then the most recently active.
  $("devices").replaceChildren(...sessions.map(deviceItem));
  showInfo(me.userInfo);
}

/** Runs an action, then redraws; a 401 anywhere lands on the login form. */
async function act(action, { redraw = true } = {}) {
  try {
    await action();
    if (redraw) await render();
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
    $("deviceName").value = "";
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
$("logout-all").addEventListener("click", () => {
  const others = deviceCount - 1;
  $("confirm-all-text").textContent =
    others > 0
      ? `This signs out all ${deviceCount} of your devices, this one included. You will need to log in again on each.`
      : "This signs out this device, your only one. You will need to log in again.";
  $("confirm-all").returnValue = "";
  $("confirm-all").showModal();
});
$("confirm-all").addEventListener("close", () => {
  if ($("confirm-all").returnValue !== "confirm") return;
  act(
    async () => {
      const { removed } = await api("POST", "/auth/logout-all");
      showLogin(`You are signed out on every device (${removed}).`);
    },
    { redraw: false },
  );
});
$("logout").addEventListener("click", () =>
  act(
    async () => {
      await api("POST", "/auth/logout");
      showLogin("You are signed out.");
    },
    { redraw: false },
  ),
);
$("info-form").addEventListener("input", () => {
  $("info-form").dataset.dirty = "true";
});
$("info-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  act(async () => {
    const info = { ...userInfo };
    for (const field of INFO_FIELDS) {
      const value = form.elements[field].value.trim();
      if (value) info[field] = value;
      else delete info[field];
    }
    await api("PUT", "/me/info", info);
    delete form.dataset.dirty;
    status("Info saved.");
  });
});

setInterval(refreshTimes, 15_000);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refreshTimes();
});
act(async () => {});
