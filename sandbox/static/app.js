// The sandbox chat page: pick a member, chat with the bot through the local Bot API
// server's /_sim API. Message text is only ever set with textContent, never as markup.
"use strict";

const $ = (id) => document.getElementById(id);
const POLL_WAIT = 25;

const state = {
  info: null,          // /api/state
  me: null,            // {user_id, name, unit_short?, role_label?}
  chatId: null,        // the open chat: my user id (private) or the group id
  after: 0,            // /_sim seq already shown
  poll: null,          // AbortController of the running long poll
  nodes: new Map(),    // message_id -> element
  seen: null,          // chat id -> last seq looked at (null until the first /_sim/chats)
  unread: new Set(),   // chat ids with something new since they were looked at
};

// --- unread marks -------------------------------------------------------------

function markSeen(chatId, seq) {
  if (state.seen) state.seen.set(chatId, Math.max(state.seen.get(chatId) || 0, seq));
  if (state.unread.delete(chatId)) renderUnread();
}

async function checkUnread() {
  let chats;
  try { chats = (await api("/_sim/chats")).result; } catch (e) { return; }
  const first = state.seen === null;
  if (first) state.seen = new Map();
  let changed = false;
  for (const c of chats) {
    const seen = state.seen.get(c.id);
    if (first || seen === undefined) { state.seen.set(c.id, c.last_seq); continue; }
    if (c.id !== state.chatId && c.last_seq > seen && !state.unread.has(c.id)) {
      state.unread.add(c.id);
      changed = true;
    }
  }
  if (changed) renderUnread();
}

function renderUnread() {
  const groupId = state.info ? state.info.group.chat_id : null;
  $("tab-group").classList.toggle("has-new", state.unread.has(groupId));
  $("tab-private").classList.toggle("has-new", Boolean(state.me) && state.unread.has(state.me.user_id));
  if (state.info) renderPeople();
}

// --- helpers --------------------------------------------------------------------

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

async function api(path, options = {}) {
  const resp = await fetch(path, options);
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  if (!resp.ok || (body && body.ok === false)) {
    throw new Error((body && body.error) || `请求失败（${resp.status}）`);
  }
  return body;
}

function postJSON(path, data) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
}

let toastTimer = null;
function toast(text, alert = false) {
  const box = $("toast");
  box.textContent = text;
  box.className = alert ? "toast alert" : "toast";
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, alert ? 6000 : 3000);
}

function fileSize(n) {
  if (!n && n !== 0) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function clock(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" });
}

// --- people -------------------------------------------------------------------

async function loadState() {
  state.info = await api("/api/state");
  const plan = state.info.plan;
  $("plan-name").textContent = plan ? plan.short_name : "尚未加载计划";
  renderPeople();
  fillInviteForm();
  if (state.me) {
    const p = findPerson(state.me.user_id);
    if (p) { state.me = p; renderMe(); }
  }
}

function findPerson(userId) {
  const info = state.info || { people: [], guests: [] };
  return info.people.find((p) => p.user_id === userId) ||
    info.guests.find((g) => g.user_id === userId) || null;
}

function renderPeople() {
  const list = $("people");
  const filter = $("people-filter").value.trim();
  list.replaceChildren();
  const rows = [
    ...state.info.people.map((p) => ({ ...p, guest: false })),
    ...state.info.guests.map((g) => ({ ...g, unit_short: "未注册", role_label: "访客", guest: true })),
  ];
  for (const p of rows) {
    const hay = `${p.name} ${p.unit || ""} ${p.unit_short} ${p.role_label}`;
    if (filter && !hay.includes(filter)) continue;
    const li = el("li", p.guest ? "guest" : "");
    li.dataset.userId = p.user_id;
    if (state.me && state.me.user_id === p.user_id) li.classList.add("selected");
    const name = el("span", "name", p.name);
    name.append(el("span", "role", p.role_label));
    if (state.unread.has(p.user_id)) name.append(el("span", "dot", "新消息"));
    li.append(name, el("span", "meta", p.unit || p.unit_short));
    li.addEventListener("click", () => selectPerson(p.user_id));
    list.append(li);
  }
  if (!list.children.length) list.append(el("li", "meta", "没有符合条件的成员。"));
}

function renderMe() {
  const box = $("me");
  box.replaceChildren();
  if (!state.me) { box.textContent = "未选择成员"; return; }
  box.append(el("span", "", state.me.name));
  const meta = [state.me.unit_short, state.me.role_label].filter(Boolean).join(" · ");
  if (meta) box.append(el("span", "meta", meta));
}

function selectPerson(userId) {
  const p = findPerson(userId);
  if (!p) return;
  state.me = p;
  localStorage.setItem("lianxi.sandbox.me", String(userId));
  renderMe();
  $("composer-input").disabled = false;
  $("send").disabled = false;
  openChat(isGroupTab() ? state.info.group.chat_id : userId);
}

// --- chats --------------------------------------------------------------------

function isGroupTab() { return $("tab-group").classList.contains("active"); }

function setTab(group) {
  $("tab-group").classList.toggle("active", group);
  $("tab-private").classList.toggle("active", !group);
  if (state.me) openChat(group ? state.info.group.chat_id : state.me.user_id);
}

function openChat(chatId) {
  if (state.poll) state.poll.abort();
  state.chatId = chatId;
  state.unread.delete(chatId);
  renderUnread();
  state.after = 0;
  state.nodes.clear();
  const box = $("messages");
  box.replaceChildren();
  const group = state.info && chatId === state.info.group.chat_id;
  if (group) {
    const g = state.info.group;
    $("chat-title").textContent = g.bound
      ? `${g.title} · 已绑定为联席会议群：公开通报与简报摘要发布在这里`
      : `${g.title} · 尚未绑定：管理员在本群发送 /bindgroup 绑定`;
  } else {
    $("chat-title").textContent = "与联席会议工作机器人的私聊";
  }
  box.append(el("div", "empty", "还没有消息。发送 /help 看看能做什么。"));
  loadCommands();
  pollLoop(chatId);
}

async function pollLoop(chatId) {
  const ctrl = new AbortController();
  state.poll = ctrl;
  let failures = 0;
  let primed = false;  // the first request returns the history at once, later ones wait
  while (!ctrl.signal.aborted && state.chatId === chatId) {
    const wait = primed ? POLL_WAIT : 0;
    try {
      const url = `/_sim/messages?chat_id=${encodeURIComponent(chatId)}&after=${state.after}&wait=${wait}`;
      const body = await api(url, { signal: ctrl.signal });
      if (ctrl.signal.aborted || state.chatId !== chatId) return;
      const { messages, seq } = body.result;
      let botSpoke = false;
      for (const m of messages) {
        renderMessage(m);
        if (m.from_bot) botSpoke = true;
      }
      state.after = Math.max(state.after, seq || 0);
      markSeen(chatId, state.after);
      primed = true;
      if (botSpoke) afterBotSpoke();
      failures = 0;
    } catch (e) {
      if (ctrl.signal.aborted) return;
      failures += 1;
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * failures)));
    }
  }
}

let refreshTimer = null;
function afterBotSpoke() {
  // A join, a revoke or a /bindgroup changes who is who and which commands they see.
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { loadState().catch(() => {}); loadCommands(); }, 400);
}

function scrollDown() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function renderMessage(m) {
  const box = $("messages");
  const empty = box.querySelector(".empty");
  if (empty) empty.remove();
  const old = state.nodes.get(m.message_id);
  if (m.deleted) {
    if (old) old.remove();
    state.nodes.delete(m.message_id);
    return;
  }
  const node = buildMessage(m, Boolean(old));
  if (old) {
    old.replaceWith(node);
  } else {
    box.append(node);
  }
  state.nodes.set(m.message_id, node);
  scrollDown();
}

function senderName(m) {
  const from = m.from || {};
  return [from.first_name, from.last_name].filter(Boolean).join(" ") || "用户";
}

function buildMessage(m, edited) {
  if (m.new_chat_members) {
    const names = m.new_chat_members.map((u) => u.first_name).join("、");
    return el("div", "system", `${names} 加入了群聊`);
  }
  const mine = !m.from_bot && state.me && m.from && m.from.id === state.me.user_id;
  const wrap = el("div", `msg ${m.from_bot ? "bot" : mine ? "mine" : "other"}`);
  wrap.dataset.messageId = m.message_id;
  wrap.append(el("div", "who", m.from_bot ? "联席机器人" : mine ? "我" : senderName(m)));
  const bubble = el("div", "bubble");
  if (m.document) bubble.append(docLink(m.document));
  if (m.photo && m.photo.length) {
    const biggest = m.photo[m.photo.length - 1];
    const img = el("img", "photo");
    img.alt = "图片";
    img.src = `/_sim/files/${encodeURIComponent(biggest.file_id)}`;
    const a = el("a");
    a.href = img.src; a.target = "_blank"; a.rel = "noopener";
    a.append(img);
    bubble.append(a);
  }
  const text = m.text || m.caption || "";
  if (text) bubble.append(el("span", "text", text));
  const time = el("span", "time");
  if (edited || m.edit_date) time.append(el("span", "edited", "已编辑"));
  time.append(document.createTextNode(clock(m.date)));
  bubble.append(time);
  wrap.append(bubble);
  const rows = (m.reply_markup && m.reply_markup.inline_keyboard) || [];
  if (rows.length) wrap.append(keyboard(m, rows));
  return wrap;
}

function docLink(doc) {
  const name = doc.file_name || "文件";
  const a = el("a", "doc");
  a.href = `/_sim/files/${encodeURIComponent(doc.file_id)}?name=${encodeURIComponent(name)}`;
  a.target = "_blank";
  a.rel = "noopener";
  const ext = (name.split(".").pop() || "").toUpperCase().slice(0, 4);
  a.append(el("span", `icon ${ext === "PDF" ? "pdf" : ""}`, ext || "FILE"));
  const info = el("span", "");
  info.append(el("div", "fname", name), el("div", "fsize", `${fileSize(doc.file_size)} · 点击打开`));
  a.append(info);
  return a;
}

function keyboard(m, rows) {
  const box = el("div", "keyboard");
  for (const row of rows) {
    const line = el("div", "kb-row");
    for (const b of row) {
      const btn = el("button", "kb-btn", b.text);
      btn.type = "button";
      if (b.url) {
        btn.addEventListener("click", () => window.open(b.url, "_blank", "noopener"));
      } else if (b.callback_data !== undefined) {
        btn.addEventListener("click", () => press(m, b.callback_data, box));
      } else {
        btn.disabled = true;
      }
      line.append(btn);
    }
    box.append(line);
  }
  return box;
}

async function press(m, data, box) {
  if (!state.me) return;
  const buttons = box.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const body = await postJSON("/_sim/press", {
      user_id: state.me.user_id, first_name: state.me.name, message_id: m.message_id,
      data, chat_id: m.chat.id,
    });
    showAnswer(body.result.id);
  } catch (e) {
    toast(e.message, true);
  } finally {
    setTimeout(() => buttons.forEach((b) => { b.disabled = false; }), 600);
  }
}

async function showAnswer(queryId) {
  // The bot answers a press with a short note or an alert (e.g. an expired button).
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 150));
    try {
      const body = await api("/_sim/callback_answers");
      const answer = body.result.find((a) => a.callback_query_id === queryId);
      if (answer) {
        if (answer.text) toast(answer.text, Boolean(answer.show_alert));
        return;
      }
    } catch (e) { return; }
  }
}

// --- commands, sending, files -----------------------------------------------------

async function loadCommands() {
  const box = $("commands");
  if (!state.me) { box.replaceChildren(); return; }
  let cmds = [];
  try {
    const mine = await api(`/_sim/commands?scope=chat&chat_id=${state.me.user_id}`);
    cmds = mine.result;
    if (!cmds.length) cmds = (await api("/_sim/commands")).result;
  } catch (e) { cmds = []; }
  box.replaceChildren();
  for (const c of cmds) {
    const chip = el("button", "chip", `/${c.command}`);
    chip.type = "button";
    chip.title = c.description;
    // Commands whose description shows arguments ("/invite 单位 角色") are put in the box to complete.
    const needsArgs = c.command === "start" || c.description.includes(`/${c.command} `);
    chip.addEventListener("click", () => {
      if (needsArgs) {
        const input = $("composer-input");
        input.value = `/${c.command} `;
        input.focus();
      } else {
        sendText(`/${c.command}`);
      }
    });
    box.append(chip);
  }
}

async function sendText(text) {
  if (!state.me || !text.trim()) return;
  try {
    await postJSON("/_sim/send", {
      user_id: state.me.user_id, first_name: state.me.name, text, chat_id: state.chatId,
    });
  } catch (e) {
    toast(e.message, true);
  }
}

async function sendFile(file) {
  if (!state.me || !file) return;
  const form = new FormData();
  form.append("user_id", String(state.me.user_id));
  form.append("first_name", state.me.name);
  form.append("chat_id", String(state.chatId));
  form.append("file", file, file.name);
  try {
    await api("/_sim/upload", { method: "POST", body: form });
  } catch (e) {
    toast(`文件发送失败：${e.message}`, true);
  }
}

// --- joining and invites ----------------------------------------------------------

function fillInviteForm() {
  const unit = $("invite-unit");
  const role = $("invite-role");
  if (unit.options.length) return;
  for (const u of state.info.units) {
    const o = el("option", "", u.name);
    o.value = u.key;
    unit.append(o);
  }
  for (const r of state.info.roles) {
    const o = el("option", "", r.label);
    o.value = r.key;
    role.append(o);
  }
}

async function join(event) {
  event.preventDefault();
  $("join-error").textContent = "";
  const name = $("join-name").value.trim();
  const code = $("join-code").value.trim();
  try {
    const body = await postJSON("/api/join", { name, code });
    await loadState();
    $("join-code").value = "";
    setTab(false);
    selectPerson(body.user_id);
  } catch (e) {
    $("join-error").textContent = e.message;
  }
}

async function makeInvite(event) {
  event.preventDefault();
  const out = $("invite-result");
  out.textContent = "";
  try {
    const body = await postJSON("/api/invite", { unit: $("invite-unit").value, role: $("invite-role").value });
    out.append(document.createTextNode(`${body.unit} · ${body.role_label}：`), el("code", "", body.code));
    $("join-code").value = body.code;
  } catch (e) {
    out.textContent = e.message;
  }
}

// --- start --------------------------------------------------------------------

function wire() {
  $("people-filter").addEventListener("input", renderPeople);
  $("tab-private").addEventListener("click", () => setTab(false));
  $("tab-group").addEventListener("click", () => setTab(true));
  $("join-form").addEventListener("submit", join);
  $("invite-form").addEventListener("submit", makeInvite);
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("composer-input");
    const text = input.value;
    input.value = "";
    sendText(text);
  });
  $("file-input").addEventListener("change", (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    sendFile(file);
  });
}

async function main() {
  wire();
  try {
    await loadState();
  } catch (e) {
    $("plan-name").textContent = `无法连接沙盒：${e.message}`;
    return;
  }
  await checkUnread();
  setInterval(checkUnread, 3000);
  const saved = Number(localStorage.getItem("lianxi.sandbox.me"));
  if (saved && findPerson(saved)) selectPerson(saved);
}

main();
