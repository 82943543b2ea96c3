// User search: the user box asks for ids that start with or contain what is typed (the
// kernel answers in a live widget, the page itself over the archive's users in a static
// export) and lists at most 20 of them; Enter or a click shows one. The browser never holds
// the list of all users. Ids are set as text, never as HTML.
import { h } from "./dom.js";

export const USER_SEARCH_DELAY_MS = 150;
/** Matches shown at most (the kernel's SEARCH_LIMIT). */
export const SEARCH_LIMIT = 20;

export const USER_SEARCH_STYLES = `
.attnwidget .aw-user-search { position: relative; display: inline-block; }
.attnwidget .aw-user-found {
  position: absolute; z-index: 20; left: 0; top: 100%; min-width: 100%; max-width: 360px;
  background: var(--jp-layout-color1, #fff); border: 1px solid var(--jp-border-color1, #bbb);
  border-radius: 3px; box-shadow: 0 2px 6px rgba(0, 0, 0, 0.18); padding: 2px 0;
}
.attnwidget .aw-user-results { list-style: none; margin: 0; padding: 0; max-height: 220px; overflow-y: auto; }
.attnwidget .aw-user-result {
  display: block; width: 100%; text-align: left; border: 0; background: none; color: inherit;
  font: inherit; padding: 2px 8px; cursor: pointer; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
.attnwidget .aw-user-result:hover, .attnwidget .aw-user-result:focus { background: rgba(47, 127, 209, 0.14); outline: none; }
.attnwidget .aw-user-note { opacity: 0.7; padding: 2px 8px; }
.attnwidget .aw-user-page { font: inherit; padding: 0 5px; }
`;

/**
 * Ids of `ids` that start with `query` (first, in sorted order) or contain it (then in list
 * order), case-insensitive plain text: the kernel's search (attnwidget/data/search.py), for a
 * static export's users.
 * @param {string[]} ids
 * @param {string} query
 * @returns {{ users: string[], more: boolean }}
 */
export function searchIds(ids, query, limit = SEARCH_LIMIT) {
  const needle = String(query).trim().toLowerCase();
  if (!needle) return { users: [], more: false };
  const lower = ids.map((id) => String(id).toLowerCase());
  const prefix = ids.filter((_, i) => lower[i].startsWith(needle));
  prefix.sort((a, b) => {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const found = new Set(prefix);
  for (let i = 0; i < ids.length && found.size <= limit; i++) if (lower[i].includes(needle)) found.add(ids[i]);
  const users = [...found];
  return { users: users.slice(0, limit), more: users.length > limit };
}

/**
 * Search behind the user box `box`: typing asks `on.onSearch(query)` (after a short delay);
 * showResults(reply) lists the matches under the box; Enter picks the exact match, else the
 * first one (or the typed text when no answer came yet); ArrowDown moves into the list,
 * Escape closes it and puts the shown user back in the box.
 * @param {HTMLInputElement} box
 * @param {{ onSearch(query: string): void, onPick(id: string): void, current(): string }} on
 */
export function createUserSearch(box, on) {
  let timer = null;
  let answered = { query: "", users: [] };
  const list = h("ul", { class: "aw-user-results", id: `aw-user-results-${Math.random().toString(36).slice(2)}` });
  const note = h("div", { class: "aw-user-note", "aria-live": "polite" });
  const found = h("div", { class: "aw-user-found" }, note, list);
  const el = h("div", { class: "aw-user-search" }, box, found);
  box.setAttribute("role", "combobox");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", list.id);
  box.setAttribute("aria-expanded", "false");

  function setNote(text) {
    note.textContent = text;
    note.hidden = !text;
  }

  function close() {
    clearTimeout(timer);
    answered = { query: "", users: [] };
    list.replaceChildren();
    setNote("");
    found.hidden = true;
    box.setAttribute("aria-expanded", "false");
  }

  function pick(id) {
    close();
    box.value = id;
    on.onPick(id);
    box.blur();
  }

  const buttons = () => [...list.querySelectorAll(".aw-user-result")];

  box.addEventListener("input", () => {
    clearTimeout(timer);
    const query = box.value.trim();
    if (!query) return close();
    timer = setTimeout(() => {
      setNote("searching…");
      found.hidden = false;
      on.onSearch(query);
    }, USER_SEARCH_DELAY_MS);
  });
  box.addEventListener("keydown", (event) => {
    const query = box.value.trim();
    if (event.key === "Enter") {
      if (!query) return;
      event.preventDefault();
      const users = answered.query === query ? answered.users : [];
      pick(users.find((u) => u === query) ?? users[0] ?? query);
    } else if (event.key === "ArrowDown" && buttons().length) {
      event.preventDefault();
      buttons()[0].focus();
    } else if (event.key === "Escape") {
      close();
      box.value = on.current();
    }
  });
  list.addEventListener("keydown", (event) => {
    const all = buttons();
    const at = all.indexOf(/** @type {HTMLButtonElement} */ (event.target));
    if (at < 0) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = at + (event.key === "ArrowDown" ? 1 : -1);
      if (next < 0) box.focus();
      else all[Math.min(next, all.length - 1)].focus();
    } else if (event.key === "Escape") {
      close();
      box.value = on.current();
      box.focus();
    }
  });
  // Leaving the box and its list for elsewhere closes the list and shows the current user again.
  el.addEventListener("focusout", (event) => {
    if (el.contains(/** @type {Node | null} */ (event.relatedTarget))) return;
    close();
    box.value = on.current();
  });
  close();

  return {
    el,
    /**
     * A search reply ({query, users, more}); ignored when the box no longer holds its query.
     * @param {{ query?: unknown, users?: unknown, more?: unknown }} msg
     */
    showResults(msg) {
      const query = String(msg?.query ?? "");
      if (!query || query !== box.value.trim()) return false;
      const users = Array.isArray(msg.users) ? msg.users.slice(0, SEARCH_LIMIT).map(String) : [];
      answered = { query, users };
      list.replaceChildren(
        ...users.map((id) => {
          const button = h("button", { class: "aw-user-result", type: "button", text: id, title: `Show user '${id}'` });
          // keep the focus in the box: its leaving would close the list before the click
          button.addEventListener("mousedown", (event) => event.preventDefault());
          button.addEventListener("click", () => pick(id));
          button.addEventListener("keydown", (event) => {
            if (event.key === "Enter" || event.key === " ") {
              event.preventDefault();
              pick(id);
            }
          });
          return h("li", {}, button);
        }),
      );
      setNote(
        !users.length
          ? `No user matches '${query}'.`
          : msg.more
            ? `The first ${users.length} matches: type more to narrow them.`
            : "",
      );
      found.hidden = false;
      box.setAttribute("aria-expanded", "true");
      return true;
    },
    close,
    destroy() {
      clearTimeout(timer);
    },
  };
}
