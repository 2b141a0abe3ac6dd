// uc-emulator permission explorer. Plain JavaScript, no dependencies, no build step.
// The page is a client of the public API and nothing else: every fact it shows is an API answer
// to the signed-in token (or, for a metastore admin, to the X-UC-Emulator-View-As header).
"use strict";

const UC = "/api/2.1/unity-catalog";
const SCIM = "/api/2.0/preview/scim/v2";
const TOKEN_KEY = "uc-explorer-token";
const PAGE = 50;

const S = {
  token: null,
  me: null,          // {name, display}
  admin: false,      // metastore admin (user-info/me)
  viewAs: "",
  metastore: null,   // metastore_summary
  directory: null,   // {users, groups, sps, byId, parents}
  selected: null,    // tree node element
  cardToken: 0,
  actionsCache: new Map(),
  principalsLoaded: false,
};

// ---------------------------------------------------------------------------------------------
// DOM helpers: text only, never markup from the API.
// ---------------------------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const $ = (id) => document.getElementById(id);
const tid = (name, root = document) => root.querySelector(`[data-testid="${name}"]`);
function esc(s) { return String(s).replace(/["\\]/g, "\\$&"); }

// ---------------------------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(path, { method = "GET", query, body, token = S.token, viewAs = S.viewAs } = {}) {
  let url = path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
    const qs = q.toString();
    if (qs) url += "?" + qs;
  }
  const headers = { Authorization: "Bearer " + token };
  if (viewAs && method === "GET") headers["X-UC-Emulator-View-As"] = viewAs;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // Requests in flight, on <html data-pending>: tests and teaching material wait for "0".
  pending(+1);
  let res, text;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit", cache: "no-store" });
    text = await res.text();
  } finally {
    pending(-1);
  }
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch (_) { data = null; } }
  if (!res.ok) {
    const code = (data && (data.error_code || data.scimType)) || "HTTP_" + res.status;
    const msg = (data && (data.message || data.detail)) || res.statusText;
    if (res.status === 401 && token === S.token && S.token) {
      signOut();
      showError(new ApiError(401, code, msg));
    }
    throw new ApiError(res.status, code, msg);
  }
  return data;
}

let inFlight = 0;
function pending(delta) {
  inFlight += delta;
  // Settles on the next turn, so that work chained on an answer starts before "0" shows.
  setTimeout(() => { document.documentElement.dataset.pending = String(inFlight); }, 0);
}

/** Every page of a UC list (`key` is the array's name). */
async function listAll(path, key, query) {
  const out = [];
  let pageToken;
  do {
    const d = await api(path, { query: { ...query, max_results: PAGE, page_token: pageToken } });
    out.push(...((d && d[key]) || []));
    pageToken = d && d.next_page_token;
  } while (pageToken);
  return out;
}

async function scimAll(kind) {
  const out = [];
  for (let start = 1; ; ) {
    const d = await api(`${SCIM}/${kind}`, { query: { startIndex: start, count: 100 } });
    const res = (d && d.Resources) || [];
    out.push(...res);
    const total = (d && d.totalResults) || 0;
    start += res.length;
    if (!res.length || start > total) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------
function showError(err) {
  const slot = $("error-slot");
  slot.replaceChildren();
  if (!err) return;
  const status = err.status || 0;
  const code = err.code || "ERROR";
  slot.append(h("div", { class: "error", role: "alert", "data-testid": "error", "data-error-code": code, "data-status": status },
    h("strong", { text: `${status || ""} ${code}: ` }), err.message));
}
function clearError() { showError(null); }

// ---------------------------------------------------------------------------------------------
// Sign-in
// ---------------------------------------------------------------------------------------------
async function signIn(token, { fromStorage = false } = {}) {
  let me;
  try {
    me = await api(`${SCIM}/Me`, { token, viewAs: "" });
  } catch (e) {
    if (fromStorage) sessionStorage.removeItem(TOKEN_KEY);
    showError(e);
    return false;
  }
  S.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  S.me = { name: me.userName || me.applicationId || me.displayName, display: me.displayName || "" };
  try {
    const info = await api(`${UC}/user-info/me`, { viewAs: "" });
    S.admin = !!(info && info.is_metastore_admin);
  } catch (_) { S.admin = false; }
  S.viewAs = "";
  renderSession();
  await reloadAll();
  return true;
}

function signOut() {
  S.token = null; S.me = null; S.admin = false; S.viewAs = ""; S.metastore = null; S.directory = null;
  S.selected = null; S.principalsLoaded = false; S.actionsCache.clear();
  sessionStorage.removeItem(TOKEN_KEY);
  $("signin").hidden = false;
  $("catalog-view").hidden = true;
  $("principals-slot").hidden = true;
  $("principals-slot").replaceChildren();
  $("session").hidden = true;
  $("nav").hidden = true;
  $("banner-slot").replaceChildren();
  $("tree-slot").replaceChildren();
  $("card-slot").replaceChildren(h("p", { class: "muted", text: "Select a securable in the tree." }));
  $("explain-slot").replaceChildren();
  $("signin-token").value = "";
}

function renderSession() {
  $("signin").hidden = true;
  $("session").hidden = false;
  $("nav").hidden = false;
  const who = $("whoami");
  who.setAttribute("data-principal", S.me.name);
  who.replaceChildren(S.me.name, S.admin ? h("span", { class: "sub", text: "· metastore admin" }) : "");
  if (S.me.display) who.title = S.me.display;
  $("view-as-wrap").hidden = !S.admin;
  showView("catalog");
}

function viewer() { return S.viewAs || S.me.name; }

// ---------------------------------------------------------------------------------------------
// Directory: users, groups, service principals and transitive membership (SCIM)
// ---------------------------------------------------------------------------------------------
async function loadDirectory() {
  if (S.directory) return S.directory;
  const dir = { users: [], groups: [], sps: [], byId: new Map(), kindOf: new Map(), parents: new Map(), members: new Map(), failed: null };
  try {
    const [users, groups, sps] = await Promise.all([scimAll("Users"), scimAll("Groups"), scimAll("ServicePrincipals")]);
    for (const u of users) { dir.users.push(u.userName); dir.byId.set(u.id, u.userName); dir.kindOf.set(u.userName, "user"); }
    for (const s of sps) { dir.sps.push(s.applicationId); dir.byId.set(s.id, s.applicationId); dir.kindOf.set(s.applicationId, "service_principal"); }
    for (const g of groups) { dir.groups.push(g.displayName); dir.byId.set(g.id, g.displayName); dir.kindOf.set(g.displayName, "group"); }
    for (const g of groups) {
      const members = (g.members || []).map((m) => dir.byId.get(m.value)).filter(Boolean);
      dir.members.set(g.displayName, members);
      for (const m of members) {
        if (!dir.parents.has(m)) dir.parents.set(m, []);
        dir.parents.get(m).push(g.displayName);
      }
    }
  } catch (e) {
    dir.failed = e;
  }
  for (const list of [dir.users, dir.groups, dir.sps]) list.sort();
  S.directory = dir;
  return dir;
}

/** Groups `name` belongs to, transitively: Map group -> direct? (users and SPs: account users). */
function groupsOf(name) {
  const dir = S.directory;
  const out = new Map();
  const direct = (dir && dir.parents.get(name)) || [];
  const queue = direct.map((g) => [g, true]);
  while (queue.length) {
    const [g, isDirect] = queue.shift();
    if (out.has(g)) continue;
    out.set(g, isDirect);
    for (const p of (dir.parents.get(g) || [])) queue.push([p, false]);
  }
  const kind = dir && dir.kindOf.get(name);
  if (kind !== "group" && name !== "account users") out.set("account users", true);
  return out;
}

/** Members of group `name`, transitively: Map member -> {direct, kind}. */
function membersOf(name) {
  const dir = S.directory;
  const out = new Map();
  if (name === "account users") {
    for (const u of dir.users) out.set(u, { direct: true, kind: "user" });
    for (const s of dir.sps) out.set(s, { direct: true, kind: "service_principal" });
    return out;
  }
  const queue = (dir.members.get(name) || []).map((m) => [m, true]);
  while (queue.length) {
    const [m, isDirect] = queue.shift();
    if (out.has(m)) continue;
    out.set(m, { direct: isDirect, kind: dir.kindOf.get(m) || "user" });
    for (const sub of (dir.members.get(m) || [])) queue.push([sub, false]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The tree
// ---------------------------------------------------------------------------------------------
const CHILD_KIND = { metastore: "catalog", catalog: "schema", schema: "table" };

async function reloadAll() {
  clearError();
  S.selected = null;
  S.principalsLoaded = false;
  S.directory = null;
  $("card-slot").replaceChildren(h("p", { class: "muted", text: "Select a securable in the tree." }));
  $("explain-slot").replaceChildren();
  $("principals-slot").replaceChildren();
  $("tree-search").value = "";
  renderBanner();
  await loadDirectory();
  fillViewAs();
  await loadTree();
  if (!$("principals-slot").hidden) await renderPrincipals();
}

function renderBanner() {
  const slot = $("banner-slot");
  slot.replaceChildren();
  if (S.viewAs) {
    slot.append(h("div", { class: "banner", "data-testid": "view-as-banner", "data-principal": S.viewAs },
      "Viewing as ", h("strong", { text: S.viewAs }), " — read-only: every request is answered as this principal would see it. Grant controls are hidden."));
  }
}

function fillViewAs() {
  const sel = $("view-as");
  const keep = S.viewAs;
  sel.replaceChildren(h("option", { value: "", text: "yourself" }));
  const dir = S.directory;
  if (dir) {
    const users = h("optgroup", { label: "Users" });
    for (const u of dir.users) users.append(h("option", { value: u, text: u }));
    const sps = h("optgroup", { label: "Service principals" });
    for (const s of dir.sps) sps.append(h("option", { value: s, text: s }));
    sel.append(users, sps);
  }
  sel.value = keep;
}

async function loadTree() {
  const slot = $("tree-slot");
  slot.replaceChildren();
  let ms;
  try {
    ms = await api(`${UC}/metastore_summary`);
  } catch (e) {
    slot.append(h("p", { "data-testid": "tree-empty", class: "node-error", text: e.message }));
    return;
  }
  S.metastore = ms;
  const tree = h("ul", { role: "tree", "data-testid": "tree", "aria-label": "Securables" });
  tree.addEventListener("keydown", onTreeKey);
  const root = makeNode("metastore", ms.metastore_id, ms.name || ms.metastore_id, {});
  root.tabIndex = 0;
  tree.append(root);
  slot.append(tree);
  await expand(root);
}

function makeNode(type, fullName, label, info) {
  const expandable = type in CHILD_KIND;
  const li = h("li", {
    role: "treeitem", "data-testid": "tree-node", "data-securable-type": type, "data-full-name": fullName,
    "aria-selected": "false", tabindex: "-1",
    "aria-expanded": expandable ? "false" : null,
    "data-browse-only": info.browse_only ? "true" : null,
    "data-table-type": type === "table" ? (info.table_type || "") : null,
  });
  const row = h("div", { class: "row" });
  const toggle = h("span", { class: "tree-toggle" + (expandable ? "" : " leaf"), "data-testid": expandable ? "tree-toggle" : null, "aria-hidden": "true", text: expandable ? "▸" : "·" });
  if (expandable) toggle.addEventListener("click", (ev) => { ev.stopPropagation(); toggleNode(li); });
  const kindLabel = type === "table" && info.table_type === "VIEW" ? "view" : type;
  const lab = h("span", { class: "tree-label", "data-testid": "tree-label", text: label });
  row.append(toggle, h("span", { class: "kind", text: kindLabel }), lab);
  if (info.browse_only) row.append(h("span", { class: "tag browse", text: "browse only", title: "visible through BROWSE only" }));
  row.addEventListener("click", () => { focusNode(li); select(li); });
  li.append(row);
  if (expandable) li.append(h("ul", { role: "group" }));
  li._loaded = false;
  li._nextToken = null;
  return li;
}

function nodeGroup(li) { return li.querySelector(":scope > ul[role=group]"); }

async function toggleNode(li) {
  if (li.getAttribute("aria-expanded") === "true") collapse(li); else await expand(li);
}

function collapse(li) {
  li.setAttribute("aria-expanded", "false");
  const t = li.querySelector(":scope > .row > .tree-toggle");
  if (t) t.textContent = "▸";
}

async function expand(li) {
  if (!li.hasAttribute("aria-expanded")) return;
  li.setAttribute("aria-expanded", "true");
  const t = li.querySelector(":scope > .row > .tree-toggle");
  if (t) t.textContent = "▾";
  if (!li._loaded) await loadChildren(li);
}

/** The lists a node's children come from: [path, key, query, child type]. */
function childSources(li) {
  const type = li.dataset.securableType, name = li.dataset.fullName;
  if (type === "metastore") return [[`${UC}/catalogs`, "catalogs", { include_browse: true }, "catalog"]];
  if (type === "catalog") return [[`${UC}/schemas`, "schemas", { catalog_name: name, include_browse: true }, "schema"]];
  const [cat, sch] = name.split(".");
  const q = { catalog_name: cat, schema_name: sch, include_browse: true };
  return [[`${UC}/tables`, "tables", q, "table"], [`${UC}/volumes`, "volumes", q, "volume"], [`${UC}/functions`, "functions", q, "function"]];
}

async function loadChildren(li, { all = false } = {}) {
  if (li._loading) return li._loading;
  li._loading = (async () => {
    const group = nodeGroup(li);
    if (!li._sources) li._sources = childSources(li).map(([path, key, query, kind]) => ({ path, key, query, kind, next: null, done: false }));
    do {
      for (const src of li._sources.filter((x) => !x.done)) {
        let d;
        try {
          d = await api(src.path, { query: { ...src.query, max_results: PAGE, page_token: src.next || undefined } });
        } catch (e) {
          // A list the API refuses is shown in the node's place; the node stays.
          src.done = true;
          if (src.kind === "table" || !group.querySelector(":scope > .node-error")) {
            group.querySelectorAll(":scope > .node-error").forEach((x) => x.remove());
            group.append(h("li", { class: "node-error", role: "none", text: `${e.code}: ${e.message}` }));
          }
          continue;
        }
        for (const item of (d && d[src.key]) || []) {
          const full = item.full_name || item.name;
          if (group.querySelector(`:scope > li[data-securable-type="${src.kind}"][data-full-name="${esc(full)}"]`)) continue;
          group.insertBefore(makeNode(src.kind, full, item.name, item), insertionPoint(li, group, src.kind));
        }
        src.next = (d && d.next_page_token) || null;
        src.done = !src.next;
      }
      li._loaded = true;
      li._nextToken = li._sources.some((x) => !x.done) ? "more" : null;
    } while (all && li._nextToken);
    const oldMore = group.querySelector(":scope > .tree-more-li");
    if (oldMore) oldMore.remove();
    if (li._nextToken) {
      const btn = h("button", { type: "button", class: "tree-more", "data-testid": "tree-more", text: "Load more…" });
      btn.addEventListener("click", async (ev) => { ev.stopPropagation(); await loadChildren(li); });
      group.append(h("li", { role: "none", class: "tree-more-li" }, btn));
    }
  })();
  try { await li._loading; } finally { li._loading = null; }
}

/** Where the next child of `kind` goes: after its own kind's nodes, so that a later page of
 * tables still comes before the volumes and functions already shown (lists keep their order). */
function insertionPoint(li, group, kind) {
  const kinds = li._sources.map((s) => s.kind);
  const later = kinds.slice(kinds.indexOf(kind) + 1);
  for (const child of group.children) {
    if (child.classList.contains("tree-more-li")) return child;
    if (later.includes(child.dataset.securableType)) return child;
  }
  return null;
}

function visibleNodes() {
  return [...document.querySelectorAll('[data-testid="tree"] li[role="treeitem"]')].filter((n) => n.offsetParent !== null);
}

function focusNode(li) {
  for (const n of document.querySelectorAll('[data-testid="tree"] li[role="treeitem"]')) n.tabIndex = -1;
  li.tabIndex = 0;
  li.focus();
}

function parentNode(li) { return li.parentElement && li.parentElement.closest("li[role=treeitem]"); }

async function onTreeKey(ev) {
  const li = ev.target.closest && ev.target.closest("li[role=treeitem]");
  if (!li) return;
  const nodes = visibleNodes();
  const i = nodes.indexOf(li);
  const expanded = li.getAttribute("aria-expanded");
  let handled = true;
  switch (ev.key) {
    case "ArrowDown": if (i < nodes.length - 1) focusNode(nodes[i + 1]); break;
    case "ArrowUp": if (i > 0) focusNode(nodes[i - 1]); break;
    case "ArrowRight":
      if (expanded === "false") await expand(li);
      else if (expanded === "true") { const c = nodeGroup(li).querySelector("li[role=treeitem]"); if (c) focusNode(c); }
      break;
    case "ArrowLeft":
      if (expanded === "true") collapse(li);
      else { const p = parentNode(li); if (p) focusNode(p); }
      break;
    case "Home": if (nodes.length) focusNode(nodes[0]); break;
    case "End": if (nodes.length) focusNode(nodes[nodes.length - 1]); break;
    case "Enter": case " ": select(li); break;
    default: handled = false;
  }
  if (handled) ev.preventDefault();
}

/** Loads and expands the path to a securable, returning its node (or null). */
async function reveal(type, fullName) {
  const tree = tid("tree");
  if (!tree) return null;
  const root = tree.querySelector("li[role=treeitem]");
  if (type === "metastore") return root;
  const parts = fullName.split(".");
  let node = root;
  for (let depth = 1; depth <= parts.length; depth++) {
    await expand(node);
    const name = parts.slice(0, depth).join(".");
    const sel = depth === parts.length && type !== "x" ? `:scope > li[data-securable-type="${type}"][data-full-name="${esc(name)}"]` : `:scope > li[data-full-name="${esc(name)}"]`;
    let next = nodeGroup(node).querySelector(sel);
    while (!next && node._nextToken) {
      await loadChildren(node);
      next = nodeGroup(node).querySelector(sel);
    }
    if (!next) return null;
    node = next;
  }
  return node;
}

function clearMarks() {
  for (const n of document.querySelectorAll("li[data-explain]")) n.removeAttribute("data-explain");
}

// ---------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------
async function runSearch() {
  const text = $("tree-search").value.trim().toLowerCase();
  const tree = tid("tree");
  if (!tree) return;
  for (const n of tree.querySelectorAll("li[role=treeitem]")) n.classList.remove("search-hidden");
  if (!text) return;
  // Load every level the viewer can see, then keep matches and their ancestors.
  const root = tree.querySelector("li[role=treeitem]");
  await loadChildren(root, { all: true }).catch(() => {});
  while (root._nextToken) await loadChildren(root, { all: true });
  for (const cat of nodeGroup(root).querySelectorAll(":scope > li[role=treeitem]")) {
    if (!cat._loaded || cat._nextToken) await loadChildren(cat, { all: true });
    for (const sch of nodeGroup(cat).querySelectorAll(":scope > li[role=treeitem]")) {
      if (!sch._loaded || sch._nextToken) await loadChildren(sch, { all: true });
    }
  }
  if ($("tree-search").value.trim().toLowerCase() !== text) return; // a newer search runs
  const all = [...tree.querySelectorAll("li[role=treeitem]")];
  const keep = new Set([root]);
  for (const n of all) {
    const label = n.querySelector(":scope > .row > .tree-label").textContent.toLowerCase();
    if (n !== root && label.includes(text)) {
      for (let p = n; p; p = parentNode(p)) keep.add(p);
    }
  }
  for (const n of all) {
    if (!keep.has(n)) n.classList.add("search-hidden");
    else if (n.hasAttribute("aria-expanded") && [...keep].some((k) => k !== n && n.contains(k))) {
      n.setAttribute("aria-expanded", "true");
      const t = n.querySelector(":scope > .row > .tree-toggle"); if (t) t.textContent = "▾";
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The card
// ---------------------------------------------------------------------------------------------
function permType(li) { return li.dataset.securableType; }

async function select(li) {
  clearError();
  clearMarks();
  if (S.selected) S.selected.setAttribute("aria-selected", "false");
  S.selected = li;
  li.setAttribute("aria-selected", "true");
  await renderCard();
  await renderExplainPanel();
}

async function getSecurable(type, fullName) {
  if (type === "metastore") return S.metastore;
  const path = { catalog: "catalogs", schema: "schemas", table: "tables", volume: "volumes", function: "functions" }[type];
  return api(`${UC}/${path}/${encodeURIComponent(fullName)}`, { query: { include_browse: true } });
}

async function renderCard() {
  const li = S.selected;
  if (!li) return;
  const token = ++S.cardToken;
  const type = li.dataset.securableType, fullName = li.dataset.fullName;
  const slot = $("card-slot");
  let info;
  try {
    info = await getSecurable(type, fullName);
  } catch (e) {
    if (token !== S.cardToken) return;
    slot.replaceChildren(h("div", { class: "card", "data-testid": "card", "data-securable-type": type, "data-full-name": fullName },
      h("h2", { "data-testid": "card-full-name", text: fullName }), h("p", { class: "limited", text: `${e.code}: ${e.message}` })));
    return;
  }
  // Owners of the ancestors, for the ownership rows (a refusal just leaves them out).
  const parts = fullName.split(".");
  const ancestors = [];
  if (type === "schema" || type === "table") {
    const cat = await getSecurable("catalog", parts[0]).catch(() => null);
    if (cat) ancestors.push({ type: "catalog", name: parts[0], owner: cat.owner });
  }
  if (type === "table") {
    const sch = await getSecurable("schema", parts.slice(0, 2).join(".")).catch(() => null);
    if (sch) ancestors.push({ type: "schema", name: parts.slice(0, 2).join("."), owner: sch.owner });
  }
  const perms = await readGrants(type, fullName);
  if (token !== S.cardToken) return;

  const displayName = type === "metastore" ? (info.name || fullName) : fullName;
  const typeText = type.toUpperCase() + (type === "table" && info.table_type ? ` · ${info.table_type}` : "");
  const card = h("div", { class: "card", "data-testid": "card", "data-securable-type": type, "data-full-name": fullName });
  card.append(
    h("h2", { "data-testid": "card-full-name", text: displayName }),
    h("dl", {},
      h("dt", { text: "Type" }), h("dd", { "data-testid": "card-type", text: typeText + (type === "volume" && info.volume_type ? ` · ${info.volume_type}` : "") }),
      h("dt", { text: "Owner" }), h("dd", { "data-testid": "card-owner", text: info.owner || "" }),
      h("dt", { text: "Comment" }), h("dd", { "data-testid": "card-comment", text: info.comment || "" }),
      h("dt", { text: "Storage" }), h("dd", { "data-testid": "card-storage-location", text: info.storage_location || info.storage_root || "" }),
      type === "metastore" ? [h("dt", { text: "Metastore id" }), h("dd", {}, h("code", { text: fullName }))] : null,
    ),
  );
  if (info.browse_only) card.append(h("p", { class: "limited", "data-testid": "card-browse-only", text: "Visible through BROWSE only: the API returns selected metadata." }));
  if (perms.limited) card.append(h("p", { class: "limited", "data-testid": "card-grants-limited", text: `${perms.limited} Showing only what the API answers for ${viewer()}.` }));

  // Direct grants
  card.append(h("h3", { text: "Direct grants (on this securable)" }));
  const direct = perms.direct || [];
  if (direct.length) {
    const tb = h("tbody");
    for (const a of direct) {
      tb.append(h("tr", { "data-testid": "grant-row", "data-principal": a.principal, "data-privileges": a.privileges.join(",") },
        h("td", { text: a.principal }), h("td", {}, a.privileges.map((p) => h("span", { class: "priv", text: p })))));
    }
    card.append(h("table", { class: "grid" }, h("thead", {}, h("tr", {}, h("th", { text: "Principal" }), h("th", { text: "Privileges" }))), tb));
  } else {
    card.append(h("p", { class: "muted", text: "No direct grants." }));
  }

  // Effective permissions
  card.append(h("h3", { text: "Effective permissions (and where each comes from)" }));
  const forSel = h("select", { "data-testid": "card-effective-for", id: "card-effective-for" }, h("option", { value: "", text: "every grantee" }));
  const dir = S.directory;
  if (dir) {
    for (const [label, list] of [["Users", dir.users], ["Groups", dir.groups], ["Service principals", dir.sps]]) {
      const og = h("optgroup", { label });
      for (const n of list) og.append(h("option", { value: n, text: n }));
      forSel.append(og);
    }
  }
  const effSlot = h("div");
  const baseRows = effectiveRows(type, fullName, info, ancestors, perms.effective || []);
  const draw = () => drawEffective(effSlot, baseRows, forSel.value);
  forSel.addEventListener("change", draw);
  card.append(h("div", { class: "row-controls" }, h("label", { for: "card-effective-for", text: "For" }), forSel), effSlot);
  draw();

  // Grant / revoke
  if (perms.canChange && !S.viewAs) card.append(await grantForm(li, type, fullName, info));
  slot.replaceChildren(card);
}

/** Direct and effective grants; a 403 on the full lists falls back to the viewer's own. */
async function readGrants(type, fullName) {
  const enc = encodeURIComponent(fullName);
  const out = { direct: [], effective: [], limited: null, canChange: false };
  try {
    const [d, e] = await Promise.all([
      api(`${UC}/permissions/${type}/${enc}`),
      api(`${UC}/effective-permissions/${type}/${enc}`),
    ]);
    out.direct = d.privilege_assignments || [];
    out.effective = e.privilege_assignments || [];
    out.canChange = true;
  } catch (err) {
    out.limited = err.message;
    const q = { principal: viewer() };
    const [d, e] = await Promise.all([
      api(`${UC}/permissions/${type}/${enc}`, { query: q }).catch(() => null),
      api(`${UC}/effective-permissions/${type}/${enc}`, { query: q }).catch(() => null),
    ]);
    out.direct = (d && d.privilege_assignments) || [];
    out.effective = (e && e.privilege_assignments) || [];
  }
  return out;
}

function effectiveRows(type, fullName, info, ancestors, assignments) {
  const rows = [];
  for (const a of assignments) {
    for (const p of a.privileges || []) {
      if (p.inherited_from_name) {
        rows.push({ grantee: a.principal, privilege: p.privilege, source: "inherited", from: p.inherited_from_name, fromType: (p.inherited_from_type || "").toLowerCase() });
      } else {
        rows.push({ grantee: a.principal, privilege: p.privilege, source: "direct" });
      }
    }
  }
  if (info.owner) rows.push({ grantee: info.owner, privilege: "OWN", source: "ownership" });
  for (const anc of ancestors) if (anc.owner) rows.push({ grantee: anc.owner, privilege: "OWN", source: "ownership", from: anc.name, fromType: anc.type });
  return rows;
}

function drawEffective(slot, baseRows, principal) {
  let rows;
  if (!principal) {
    rows = baseRows.map((r) => ({ ...r, principal: r.grantee }));
  } else {
    const groups = groupsOf(principal);
    rows = [];
    for (const r of baseRows) {
      if (r.grantee === principal) rows.push({ ...r, principal });
      else if (groups.has(r.grantee)) rows.push({ ...r, principal, via: r.grantee });
    }
  }
  slot.replaceChildren();
  if (!rows.length) { slot.append(h("p", { class: "muted", "data-testid": "effective-none", text: "No effective privileges." })); return; }
  const tb = h("tbody");
  for (const r of rows) {
    const source = r.source === "inherited" ? `inherited from ${r.fromType} ${r.from}`
      : r.source === "ownership" ? (r.from ? `owner of ${r.fromType} ${r.from}` : "owner") : "granted here";
    tb.append(h("tr", {
      "data-testid": "effective-row", "data-principal": r.principal, "data-privilege": r.privilege, "data-source": r.source,
      "data-inherited-from": r.from || null, "data-inherited-from-type": r.from ? r.fromType : null, "data-via-group": r.via || null,
    },
    h("td", { text: r.principal }),
    h("td", {}, h("span", { class: "priv" + (r.privilege === "OWN" ? " own" : ""), text: r.privilege === "OWN" ? "OWN (every privilege)" : r.privilege })),
    h("td", { class: "src-" + r.source, text: source }),
    h("td", { class: "muted", text: r.via ? `via group ${r.via}` : "" })));
  }
  slot.append(h("table", { class: "grid" }, h("thead", {}, h("tr", {}, h("th", { text: "Principal" }), h("th", { text: "Privilege" }), h("th", { text: "Source" }), h("th", { text: "" }))), tb));
}

async function actionsFor(type) {
  const key = type;
  if (!S.actionsCache.has(key)) {
    const d = await api(`${UC}/explain/actions`, { query: { securable_type: type } });
    S.actionsCache.set(key, d.actions || []);
  }
  return S.actionsCache.get(key);
}

async function grantForm(li, type, fullName, info) {
  const kind = type === "table" && info.table_type === "VIEW" ? "view" : type;
  const privs = (await actionsFor(kind).catch(() => [])).filter((a) => a.kind === "privilege").map((a) => a.name);
  const dl = h("datalist", { id: "known-principals" });
  const dir = S.directory;
  if (dir) for (const n of [...dir.groups, ...dir.users, ...dir.sps, "account users"]) dl.append(h("option", { value: n }));
  const who = h("input", { type: "text", "data-testid": "grant-principal", list: "known-principals", placeholder: "principal (user, group, SP)", "aria-label": "Principal" });
  const priv = h("select", { "data-testid": "grant-privilege", "aria-label": "Privilege" }, privs.map((p) => h("option", { value: p, text: p })));
  const change = async (op) => {
    clearError();
    const principal = who.value.trim();
    const body = { changes: [{ principal, [op]: [priv.value] }] };
    try {
      await api(`${UC}/permissions/${type}/${encodeURIComponent(fullName)}`, { method: "PATCH", body });
    } catch (e) { showError(e); return; }
    await renderCard();
    const again = tid("grant-principal"); if (again) { again.value = principal; }
    const p2 = tid("grant-privilege"); if (p2) p2.value = priv.value;
  };
  return h("form", { class: "grant-form", "data-testid": "grant-form", onsubmit: (ev) => ev.preventDefault() },
    h("strong", { text: "Change grants:" }), who, dl, priv,
    h("button", { type: "button", class: "primary", "data-testid": "grant-add", onclick: () => change("add"), text: "Grant" }),
    h("button", { type: "button", "data-testid": "grant-remove", onclick: () => change("remove"), text: "Revoke" }));
}

// ---------------------------------------------------------------------------------------------
// Explain
// ---------------------------------------------------------------------------------------------
async function renderExplainPanel() {
  const li = S.selected;
  const slot = $("explain-slot");
  if (!li) { slot.replaceChildren(); return; }
  const type = li.dataset.securableType, fullName = li.dataset.fullName;
  const kind = type === "table" && li.dataset.tableType === "VIEW" ? "view" : type;
  let actions = [];
  try { actions = await actionsFor(kind); } catch (e) { showError(e); }
  const pSel = h("select", { "data-testid": "explain-principal", "aria-label": "Principal" });
  const dir = S.directory;
  if (S.admin && !S.viewAs && dir) {
    for (const [label, list] of [["Users", dir.users], ["Groups", [...dir.groups, "account users"]], ["Service principals", dir.sps]]) {
      const og = h("optgroup", { label });
      for (const n of list) og.append(h("option", { value: n, text: n }));
      pSel.append(og);
    }
  } else {
    pSel.append(h("option", { value: viewer(), text: viewer() }));
  }
  pSel.value = viewer();
  const aSel = h("select", { "data-testid": "explain-action", "aria-label": "Action" });
  const ops = h("optgroup", { label: "Operations" }), privs = h("optgroup", { label: "Privileges (held and usable?)" });
  for (const a of actions) (a.kind === "privilege" ? privs : ops).append(h("option", { value: a.name, text: a.name }));
  aSel.append(ops, privs);
  const preferred = { metastore: "createCatalog", catalog: "getCatalog", schema: "getSchema", table: "getTable", volume: "readVolume", function: "getFunction" }[type];
  if (actions.some((a) => a.name === preferred)) aSel.value = preferred;
  const result = h("div", { id: "explain-result-slot" });
  const run = h("button", { type: "button", class: "primary", "data-testid": "explain-run", text: "Explain" });
  run.addEventListener("click", () => runExplain(type, fullName, pSel.value, aSel.value, result));
  slot.replaceChildren(h("section", { class: "pane explain", "data-testid": "explain-panel" },
    h("h3", { text: "Can P do A on S?" }),
    h("div", { class: "controls" },
      h("label", {}, "Principal ", pSel), h("label", {}, "Action ", aSel),
      h("span", {}, "on ", h("strong", { "data-testid": "explain-securable", "data-securable-type": type, "data-full-name": fullName, text: fullName })),
      run),
    result));
}

async function runExplain(type, fullName, principal, action, slot) {
  clearError();
  clearMarks();
  const query = { action, securable_type: type, full_name: fullName };
  if (principal && principal !== viewer()) query.principal = principal;
  let r;
  try {
    r = await api(`${UC}/explain`, { query });
  } catch (e) { showError(e); slot.replaceChildren(); return; }
  const res = h("div", { "data-testid": "explain-result", "data-allowed": String(!!r.allowed), "data-principal": principal, "data-action": action, "data-full-name": fullName });
  res.append(...[
    h("div", { class: "verdict " + (r.allowed ? "allowed" : "denied"), "data-testid": "explain-verdict", text: r.allowed ? "ALLOWED" : "DENIED" }),
    r.held !== undefined ? h("span", { class: "muted", text: `  held: ${r.held ? "yes" : "no"} · usable: ${r.usable ? "yes" : "no"}` }) : null,
    h("p", { class: "explain-text", "data-testid": "explain-text", text: r.explanation }),
    h("ul", { class: "reasons" }, (r.reasons || []).map((x) => h("li", { "data-testid": "explain-reason", "data-kind": x.kind, "data-securable": x.securable || null, text: x.text }))),
  ].filter(Boolean));
  if (r.requirement) {
    res.append(h("h3", { text: "The rule, with what the principal has and lacks" }), h("ul", { class: "req", "data-testid": "explain-requirement" }, reqItem(r.requirement)));
  }
  slot.replaceChildren(res);
  await highlight(type, fullName, r);
}

function reqItem(n) {
  const label = n.kind === "privilege" ? `${n.text}, through any of:` : (n.kind === "all_of" || n.kind === "any_of") ? `${n.text}:` : n.text;
  return h("li", { class: n.satisfied ? "has" : "lacks", "data-kind": n.kind }, label,
    n.satisfied && n.evidence && !n.children ? h("span", { class: "ev", text: ` — ${n.evidence}` }) : null,
    n.children && n.children.length ? h("ul", {}, n.children.map(reqItem)) : null);
}

async function highlight(type, fullName, r) {
  const ms = S.metastore;
  const nodeFor = async (name) => {
    if (!name) return null;
    if (ms && (name === ms.name || name === ms.metastore_id)) return reveal("metastore", ms.metastore_id);
    return reveal("x", name);
  };
  const marks = [];
  for (const x of r.reasons || []) {
    if (["owner", "grant", "owner_conveys"].includes(x.kind) && x.securable) marks.push([x.securable, "grants"]);
    else if (x.kind === "missing" && x.securable) marks.push([x.securable, "missing"]);
  }
  for (const [name, mark] of marks) {
    const n = await nodeFor(name);
    if (n && n.getAttribute("data-explain") !== "grants") n.setAttribute("data-explain", mark);
  }
  if (!r.allowed) {
    const target = type === "metastore" ? await reveal("metastore", fullName) : await reveal(type, fullName);
    if (target) target.setAttribute("data-explain", "denied");
  }
}

// ---------------------------------------------------------------------------------------------
// Principals
// ---------------------------------------------------------------------------------------------
function showView(which) {
  const principals = which === "principals";
  $("catalog-view").hidden = principals;
  $("principals-slot").hidden = !principals;
  $("nav-catalog").setAttribute("aria-pressed", String(!principals));
  $("nav-principals").setAttribute("aria-pressed", String(principals));
}

async function renderPrincipals() {
  const slot = $("principals-slot");
  const dir = await loadDirectory();
  const list = h("ul", { class: "plist", role: "listbox", "aria-label": "Principals" });
  const entries = [
    ...dir.users.map((n) => [n, "user"]), ...dir.groups.map((n) => [n, "group"]),
    ["account users", "group"], ...dir.sps.map((n) => [n, "service_principal"]),
  ];
  const detail = h("div", { class: "pane" }, h("p", { class: "muted", text: "Select a principal." }));
  for (const [name, kind] of entries) {
    const li = h("li", { role: "option", tabindex: "0", "data-testid": "principal-row", "data-principal": name, "data-principal-kind": kind, "aria-selected": "false" },
      h("span", { class: "pkind", text: kind.replace("_", " ") }), h("span", { text: name }));
    const pick = () => {
      for (const x of list.children) x.setAttribute("aria-selected", "false");
      li.setAttribute("aria-selected", "true");
      principalDetail(name, kind, detail);
    };
    li.addEventListener("click", pick);
    li.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); pick(); }
      if (ev.key === "ArrowDown" && li.nextElementSibling) { ev.preventDefault(); li.nextElementSibling.focus(); }
      if (ev.key === "ArrowUp" && li.previousElementSibling) { ev.preventDefault(); li.previousElementSibling.focus(); }
    });
    list.append(li);
  }
  const root = h("div", { class: "principals", "data-testid": "principals-view" },
    h("div", { class: "pane" }, h("h3", { text: "Users, groups and service principals" }),
      dir.failed ? h("p", { class: "limited", text: dir.failed.message }) : null, list),
    detail);
  slot.replaceChildren(root);
  S.principalsLoaded = true;
}

/** Every securable of the tree the viewer may see: [{type, full_name}]. */
async function walkSecurables() {
  const out = [];
  const ms = S.metastore;
  if (!ms) return out;
  out.push({ type: "metastore", full_name: ms.metastore_id });
  const cats = await listAll(`${UC}/catalogs`, "catalogs", { include_browse: true }).catch(() => []);
  for (const c of cats) {
    out.push({ type: "catalog", full_name: c.name });
    const schemas = await listAll(`${UC}/schemas`, "schemas", { catalog_name: c.name, include_browse: true }).catch(() => []);
    for (const s of schemas) {
      out.push({ type: "schema", full_name: s.full_name });
      const tables = await listAll(`${UC}/tables`, "tables", { catalog_name: c.name, schema_name: s.name, include_browse: true }).catch(() => []);
      for (const t of tables) out.push({ type: "table", full_name: t.full_name });
    }
  }
  return out;
}

async function principalDetail(name, kind, slot) {
  const groups = groupsOf(name);
  const d = h("div", { "data-testid": "principal-detail", "data-principal": name });
  d.append(h("h2", { text: name }), h("p", { class: "muted", text: kind.replace("_", " ") }));
  d.append(h("h3", { text: "Member of (transitively)" }));
  const gl = h("ul");
  for (const [g, direct] of [...groups.entries()].sort()) {
    gl.append(h("li", { "data-testid": "principal-group", "data-group": g, "data-direct": String(direct) }, g, direct ? "" : h("span", { class: "muted", text: " (through a nested group)" })));
  }
  if (!groups.size) gl.append(h("li", { class: "muted", text: "no groups" }));
  d.append(gl);
  if (kind === "group") {
    d.append(h("h3", { text: "Members (transitively)" }));
    const ml = h("ul");
    for (const [m, v] of [...membersOf(name).entries()].sort()) {
      ml.append(h("li", { "data-testid": "principal-member", "data-member": m, "data-member-kind": v.kind, "data-direct": String(v.direct) },
        m, h("span", { class: "muted", text: ` (${v.kind.replace("_", " ")}${v.direct ? "" : ", nested"})` })));
    }
    d.append(ml);
  }
  d.append(h("h3", { text: "Grants held (directly or through a group)" }));
  const grantsSlot = h("div", {}, h("p", { class: "muted", text: "Reading the grants of every securable you can see…" }));
  d.append(grantsSlot);
  slot.replaceChildren(d);

  const holders = new Set([name, ...groups.keys()]);
  const rows = [];
  let limited = null;
  for (const s of await walkSecurables()) {
    let assignments;
    try {
      assignments = (await api(`${UC}/permissions/${s.type}/${encodeURIComponent(s.full_name)}`)).privilege_assignments || [];
    } catch (e) {
      limited = limited || e.message;
      continue;
    }
    for (const a of assignments) {
      if (!holders.has(a.principal)) continue;
      for (const p of a.privileges) rows.push({ ...s, privilege: p, via: a.principal === name ? null : a.principal });
    }
  }
  if (!d.isConnected) return;
  grantsSlot.replaceChildren();
  if (limited) grantsSlot.append(h("p", { class: "limited", "data-testid": "principal-grants-limited", text: `Some grants could not be read: ${limited}` }));
  if (!rows.length) { grantsSlot.append(h("p", { class: "muted", text: "No grants." })); return; }
  const tb = h("tbody");
  for (const r of rows) {
    tb.append(h("tr", { "data-testid": "principal-grant", "data-securable-type": r.type, "data-full-name": r.full_name, "data-privilege": r.privilege, "data-via-group": r.via || null },
      h("td", { text: r.type }), h("td", { text: r.type === "metastore" ? (S.metastore.name || r.full_name) : r.full_name }),
      h("td", {}, h("span", { class: "priv", text: r.privilege })), h("td", { class: "muted", text: r.via ? `via group ${r.via}` : "" })));
  }
  grantsSlot.append(h("table", { class: "grid" }, h("thead", {}, h("tr", {}, h("th", { text: "Type" }), h("th", { text: "Securable" }), h("th", { text: "Privilege" }), h("th", { text: "" }))), tb));
}

// ---------------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearError();
    const token = $("signin-token").value.trim();
    if (await signIn(token)) $("signin-token").value = "";
  });
  $("signout").addEventListener("click", () => { clearError(); signOut(); });
  $("nav-catalog").addEventListener("click", () => { clearError(); showView("catalog"); });
  $("nav-principals").addEventListener("click", async () => {
    clearError();
    showView("principals");
    if (!S.principalsLoaded) await renderPrincipals();
  });
  $("view-as").addEventListener("change", async (ev) => {
    S.viewAs = ev.target.value;
    await reloadAll();
  });
  const search = $("tree-search");
  search.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); runSearch(); } });
  search.addEventListener("input", () => { if (!search.value.trim()) runSearch(); });
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved, { fromStorage: true });
});
