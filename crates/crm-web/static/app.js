// CRM — app.js
// Progressive enhancement only: every page works without this file.
// Loaded as <script type="module">, so it runs after parsing. The CSP forbids inline script,
// so everything is wired here through event delegation on document and data attributes.
//
// Sections: 1 helpers · 2 theme · 3 sidebar & menus · 4 table rows · 5 selection
//           6 dialogs & confirm · 7 keyboard shortcuts · 8 auto-submit filters
//           9 busy submit buttons · 10 toasts · 10f tasks & deletes in place · 11 start-up

const root = document.documentElement;
root.classList.add('js');

// --- 1. Helpers ------------------------------------------------------------

/** True when the event target is a place where the user types. */
function isTyping(el) {
  if (!el || !(el instanceof Element)) return false;
  if (el.isContentEditable) return true;
  if (el.matches('textarea, select')) return true;
  if (el.matches('input')) {
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes(el.type);
  }
  return false;
}

/** Interactive elements inside a clickable row that keep their own behaviour. */
const INTERACTIVE = 'a, button, input, label, select, textarea, summary, details, [contenteditable]';

/** The page's main search box (inside <main> first, then anywhere). */
function pageSearch() {
  return document.querySelector('main input[type=search]') || document.querySelector('input[type=search]');
}

function focusSearch() {
  const box = pageSearch();
  if (!box) return false;
  box.focus();
  box.select();
  return true;
}

/** Checkboxes named "ids" that belong to a form (including ones linked with form="…"). */
function idBoxes(form) {
  return Array.from(form.elements).filter((el) => el.type === 'checkbox' && el.name === 'ids');
}

// --- 2. Theme --------------------------------------------------------------
// <html data-theme> is set by the server from the cookie; absent = follow the system.

function effectiveTheme() {
  const chosen = root.dataset.theme;
  if (chosen === 'light' || chosen === 'dark') return chosen;
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function setTheme(theme) {
  root.dataset.theme = theme;
  document.cookie = `theme=${theme}; Path=/; Max-Age=31536000; SameSite=Lax`;
}

document.addEventListener('click', (event) => {
  const toggle = event.target.closest('button.theme-toggle');
  if (!toggle) return;
  event.preventDefault(); // the no-JS fallback is a form submission
  setTheme(effectiveTheme() === 'dark' ? 'light' : 'dark');
});

// --- 3. Sidebar (mobile menu) and dropdown menus ---------------------------

function setSidebarOpen(sidebar, open) {
  sidebar.classList.toggle('open', open);
  const toggle = sidebar.querySelector('.menu-toggle');
  if (toggle) toggle.setAttribute('aria-expanded', String(open));
}

document.addEventListener('click', (event) => {
  const toggle = event.target.closest('.menu-toggle');
  if (toggle) {
    const sidebar = toggle.closest('.sidebar');
    if (sidebar) setSidebarOpen(sidebar, !sidebar.classList.contains('open'));
    return;
  }
  // A click outside closes the open mobile menu and any open dropdown <details>.
  for (const sidebar of document.querySelectorAll('.sidebar.open')) {
    if (!sidebar.contains(event.target)) setSidebarOpen(sidebar, false);
  }
  for (const menu of document.querySelectorAll('details.user-menu[open], details.dropdown[open]')) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});

/** Esc closes menus first; returns true when something was closed. */
function closeMenus() {
  let closed = false;
  for (const menu of document.querySelectorAll('details.user-menu[open], details.dropdown[open]')) {
    menu.open = false;
    menu.querySelector('summary')?.focus();
    closed = true;
  }
  if (closed) return true;
  for (const sidebar of document.querySelectorAll('.sidebar.open')) {
    setSidebarOpen(sidebar, false);
    sidebar.querySelector('.menu-toggle')?.focus();
    closed = true;
  }
  return closed;
}

// The search trigger opens the ⌘K palette (without JS it is a link to /search).
document.addEventListener('click', (event) => {
  const trigger = event.target.closest('.search-trigger[data-palette]');
  if (!trigger || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  openPalette();
});

// --- 3b. The ⌘K palette: GET /api/search as you type, grouped results, arrows + Enter,
// recent searches remembered in this browser for this user.

const GROUPS = [['contacts', 'Contacts'], ['companies', 'Companies'], ['deals', 'Deals'], ['tasks', 'Tasks'], ['activities', 'Activities']];

function recentKey() {
  const email = document.querySelector('.user-menu .user-email')?.textContent || '';
  return `crm-recent-searches:${email}`;
}

function recentSearches() {
  try { return JSON.parse(localStorage.getItem(recentKey()) || '[]'); } catch { return []; }
}

function rememberSearch(q) {
  const list = [q, ...recentSearches().filter((x) => x !== q)].slice(0, 8);
  try { localStorage.setItem(recentKey(), JSON.stringify(list)); } catch { /* private mode */ }
}

function openPalette() {
  let dialog = document.querySelector('dialog.palette');
  if (!dialog) {
    dialog = document.createElement('dialog');
    dialog.className = 'palette';
    dialog.setAttribute('aria-label', 'Search');
    dialog.innerHTML = '<form method="get" action="/search" class="palette-form"><input type="search" name="q" autocomplete="off" '
      + 'placeholder="Search contacts, companies, deals, tasks, activities…" aria-label="Search" aria-controls="palette-results">'
      + '</form><div id="palette-results" class="palette-results" role="listbox"></div>';
    document.body.append(dialog);
    const input = dialog.querySelector('input');
    let timer = 0;
    let seq = 0;
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = input.value.trim();
        const mine = ++seq;
        if (!q) { renderRecent(dialog); return; }
        const res = await fetch(`/api/search?q=${encodeURIComponent(q)}&limit=5`, { headers: { Accept: 'application/json' } });
        if (mine !== seq) return;
        const body = await res.json().catch(() => ({}));
        renderResults(dialog, q, body.data);
      }, 150);
    });
    dialog.addEventListener('keydown', (event) => {
      const items = [...dialog.querySelectorAll('.palette-results a')];
      const current = items.indexOf(document.activeElement);
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const next = event.key === 'ArrowDown' ? Math.min(items.length - 1, current + 1) : current - 1;
        if (next < 0) input.focus(); else items[next]?.focus();
      }
    });
    dialog.addEventListener('click', (event) => {
      const link = event.target.closest('.palette-results a');
      if (link && input.value.trim()) rememberSearch(input.value.trim());
      if (event.target === dialog) dialog.close();
    });
    // Enter in the box opens the highlighted (first) result; with no result, the full results page.
    dialog.querySelector('form').addEventListener('submit', (event) => {
      if (input.value.trim()) rememberSearch(input.value.trim());
      const first = dialog.querySelector('.palette-results a.active[role=option]');
      if (first) { event.preventDefault(); window.location.assign(first.href); }
    });
  }
  renderRecent(dialog);
  dialog.showModal();
  const input = dialog.querySelector('input');
  input.value = '';
  input.focus();
}

function renderRecent(dialog) {
  const box = dialog.querySelector('.palette-results');
  box.replaceChildren();
  const recent = recentSearches();
  if (!recent.length) { box.innerHTML = '<p class="muted">Type to search. Enter opens the first result; ↑ ↓ move.</p>'; return; }
  const h = document.createElement('h3');
  h.textContent = 'Recent searches';
  box.append(h);
  for (const q of recent) {
    const a = document.createElement('a');
    a.href = `/search?q=${encodeURIComponent(q)}`;
    a.textContent = q;
    box.append(a);
  }
}

function renderResults(dialog, q, data) {
  const box = dialog.querySelector('.palette-results');
  box.replaceChildren();
  let any = false;
  for (const [key, label] of GROUPS) {
    const group = data?.[key];
    if (!group || !group.results.length) continue;
    any = true;
    const h = document.createElement('h3');
    h.textContent = `${label} (${group.total})`;
    box.append(h);
    for (const hit of group.results) {
      const a = document.createElement('a');
      a.href = hit.url;
      a.setAttribute('role', 'option');
      const title = document.createElement('strong');
      title.textContent = hit.title;
      const sub = document.createElement('span');
      sub.className = 'muted';
      sub.textContent = ` ${hit.subtitle}`;
      a.append(title, sub);
      if (!box.querySelector('a.active')) { a.classList.add('active'); a.setAttribute('aria-selected', 'true'); }
      box.append(a);
    }
  }
  if (any) {
    const all = document.createElement('a');
    all.href = `/search?q=${encodeURIComponent(q)}`;
    all.className = 'muted';
    all.textContent = `See all results for “${q}”`;
    box.append(all);
  }
  if (!any) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = `Nothing matches “${q}”.`;
    box.append(p);
  }
}

// --- 4. Table rows: click to open, j/k/Enter --------------------------------

document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  const row = event.target.closest('tr[data-href]');
  if (!row || event.target.closest(INTERACTIVE) || event.target.closest('td.check')) return;
  if (String(window.getSelection?.() || '').length > 0) return; // the user is selecting text
  const href = row.dataset.href;
  if (event.ctrlKey || event.metaKey) window.open(href, '_blank', 'noopener');
  else window.location.assign(href);
});

function keyboardRows() {
  return Array.from(document.querySelectorAll('table.table tbody tr[data-href]'));
}

function moveRow(step) {
  const rows = keyboardRows();
  if (rows.length === 0) return;
  const current = rows.findIndex((row) => row.classList.contains('kbd-current'));
  let next = current === -1 ? (step > 0 ? 0 : rows.length - 1) : current + step;
  next = Math.max(0, Math.min(rows.length - 1, next));
  if (current !== -1) rows[current].classList.remove('kbd-current');
  rows[next].classList.add('kbd-current');
  rows[next].scrollIntoView({ block: 'nearest' });
}

function openCurrentRow() {
  const row = document.querySelector('table.table tbody tr.kbd-current[data-href]');
  if (!row) return false;
  window.location.assign(row.dataset.href);
  return true;
}

// --- 5. Selection and bulk bar ----------------------------------------------

function bulkBarFor(form) {
  return form.querySelector('.bulk-bar') || (form.id && document.querySelector(`.bulk-bar[data-form="${CSS.escape(form.id)}"]`));
}

function updateSelection(form) {
  if (!form) return;
  const boxes = idBoxes(form);
  let count = 0;
  for (const box of boxes) {
    box.closest('tr')?.classList.toggle('selected', box.checked);
    if (box.checked) count += 1;
  }
  for (const all of form.querySelectorAll('input[type=checkbox][data-select-all]')) {
    all.checked = boxes.length > 0 && count === boxes.length;
    all.indeterminate = count > 0 && count < boxes.length;
  }
  const bar = bulkBarFor(form);
  if (bar) {
    bar.hidden = count === 0;
    for (const out of bar.querySelectorAll('[data-selected-count]')) out.textContent = count.toLocaleString('en-US');
  }
}

document.addEventListener('change', (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || box.type !== 'checkbox') return;
  if (box.matches('[data-select-all]')) {
    const form = box.form || box.closest('form');
    if (!form) return;
    for (const item of idBoxes(form)) item.checked = box.checked;
    updateSelection(form);
  } else if (box.name === 'ids' && box.form) {
    updateSelection(box.form);
  }
});

// "Deselect all": <button type="button" data-select-none> inside the bulk bar or the form.
document.addEventListener('click', (event) => {
  const button = event.target.closest('[data-select-none]');
  if (!button) return;
  const form = button.form || button.closest('form') || document.getElementById(button.closest('.bulk-bar')?.dataset.form || '');
  if (!form) return;
  event.preventDefault();
  for (const item of idBoxes(form)) item.checked = false;
  updateSelection(form);
});

// --- 6. Dialogs: confirm and shortcut help --------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

let dialogSeq = 0;

/** Builds a modal <dialog>, shows it, and resolves with its returnValue when closed. */
function showDialog(className, title, body, buttons, focusIndex = 0) {
  const id = `dlg-${++dialogSeq}`;
  const actions = el('div', { class: 'dialog-actions' }, ...buttons);
  const form = el('form', { method: 'dialog' },
    el('div', { class: 'dialog-body' }, el('h2', { id: `${id}-title` }, title), ...body), actions);
  const dialog = el('dialog', { class: className, 'aria-labelledby': `${id}-title` }, form);
  if (body[0] instanceof HTMLParagraphElement) {
    body[0].id = `${id}-desc`;
    dialog.setAttribute('aria-describedby', `${id}-desc`);
  }
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue);
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    });
    // A click on the dimmed backdrop (outside the panel) cancels.
    dialog.addEventListener('click', (event) => {
      if (event.target !== dialog) return;
      const box = dialog.getBoundingClientRect();
      const inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) dialog.close('');
    });
    document.body.append(dialog);
    dialog.showModal();
    buttons[focusIndex]?.focus();
  });
}

/** Resolves true when the user confirms. Falls back to window.confirm without <dialog>. */
function askConfirm(title, text, label) {
  if (typeof HTMLDialogElement !== 'function') return Promise.resolve(window.confirm(`${title}\n\n${text}`));
  const cancel = el('button', { type: 'submit', value: 'cancel', class: 'btn btn-outline' }, 'Cancel');
  const ok = el('button', { type: 'submit', value: 'confirm', class: 'btn btn-danger' }, label);
  const body = text ? [el('p', {}, text)] : [];
  // Focus starts on Cancel: a stray Enter never destroys anything.
  return showDialog('confirm', title, body, [cancel, ok], 0).then((value) => value === 'confirm');
}

/** Attribute from the submit button first, then the form. */
function confirmAttr(form, submitter, name) {
  const key = `data-confirm${name ? `-${name}` : ''}`;
  if (submitter?.hasAttribute(key)) return submitter.getAttribute(key);
  return form.getAttribute(key);
}

function needsConfirm(form, submitter) {
  if (form.dataset.confirmed === 'yes') return false;
  return form.hasAttribute('data-confirm') || Boolean(submitter?.hasAttribute('data-confirm'));
}

async function runConfirm(form, submitter) {
  const checked = idBoxes(form).filter((box) => box.checked).length;
  const countable = submitter?.hasAttribute('data-confirm-count') || form.hasAttribute('data-confirm-count');
  const fill = (s) => (countable ? s.replaceAll('{n}', checked.toLocaleString('en-US')) : s);
  const title = fill(confirmAttr(form, submitter, 'title') || 'Are you sure?');
  const text = fill(confirmAttr(form, submitter, '') || '');
  const label = fill(confirmAttr(form, submitter, 'button') || 'Delete');
  if (!(await askConfirm(title, text, label))) return;
  if (form.dataset.apiDelete && window.fetch) {
    deleteInPlace(form);
    return;
  }
  if (!form.querySelector('input[type=hidden][name=confirm]')) {
    form.append(el('input', { type: 'hidden', name: 'confirm', value: 'yes', 'data-added-by': 'confirm' }));
  }
  form.dataset.confirmed = 'yes';
  if (submitter && submitter.form === form) form.requestSubmit(submitter);
  else form.requestSubmit();
}

const SHORTCUTS = [
  [['⌘', 'K'], 'Search (Ctrl K on Windows and Linux)'],
  [['/'], 'Focus the search box on this page'],
  [['n'], 'New record on list pages'],
  [['j'], 'Next row'],
  [['k'], 'Previous row'],
  [['Enter'], 'Open the highlighted row'],
  [['Esc'], 'Close dialogs and menus'],
  [['?'], 'Show this list'],
];

function showShortcuts() {
  if (typeof HTMLDialogElement !== 'function' || document.querySelector('dialog.shortcuts')) return;
  const list = el('dl', { class: 'shortcut-list' });
  for (const [keys, what] of SHORTCUTS) {
    const dt = el('dt');
    keys.forEach((key, i) => dt.append(...(i ? [' ', el('kbd', {}, key)] : [el('kbd', {}, key)])));
    list.append(dt, el('dd', {}, what));
  }
  const close = el('button', { type: 'submit', value: 'close', class: 'btn btn-outline' }, 'Close');
  showDialog('dialog shortcuts', 'Keyboard shortcuts', [list], [close], 0);
}

// --- 7. Keyboard shortcuts -----------------------------------------------------

document.addEventListener('keydown', (event) => {
  if (event.defaultPrevented || event.isComposing) return;
  const key = event.key;

  // Ctrl/⌘ + K works everywhere, even while typing.
  if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && key.toLowerCase() === 'k') {
    if (document.querySelector('dialog[open]')) return;
    event.preventDefault();
    openPalette();
    return;
  }

  if (key === 'Escape') {
    if (document.querySelector('dialog[open]')) return; // native dialogs close themselves
    if (closeMenus()) event.preventDefault();
    return;
  }

  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target) || document.querySelector('dialog[open]')) return;

  switch (key) {
    case '/':
      if (focusSearch()) event.preventDefault();
      break;
    case '?':
      event.preventDefault();
      showShortcuts();
      break;
    case 'n': {
      const link = document.querySelector('a[data-shortcut=new]');
      if (link) {
        event.preventDefault();
        link.click();
      }
      break;
    }
    case 'j':
    case 'k':
      if (keyboardRows().length) {
        event.preventDefault();
        moveRow(key === 'j' ? 1 : -1);
      }
      break;
    case 'Enter':
      if (!event.target.closest?.(INTERACTIVE) && openCurrentRow()) event.preventDefault();
      break;
    default:
      break;
  }
});

// --- 8. Auto-submitting filter forms ---------------------------------------------
// form[data-autosubmit]: selects, checkboxes, radios and dates submit on change;
// search (300 ms) and number (600 ms) inputs submit after the user stops typing.

const timers = new WeakMap();

function autoSubmit(form) {
  form.requestSubmit();
}

document.addEventListener('change', (event) => {
  const field = event.target;
  const form = field.form;
  if (!form || !form.hasAttribute('data-autosubmit')) return;
  if (field.matches('select, input[type=checkbox]:not([name=ids]), input[type=radio], input[type=date]')) autoSubmit(form);
});

document.addEventListener('input', (event) => {
  const field = event.target;
  const form = field.form;
  if (!form || !form.hasAttribute('data-autosubmit')) return;
  if (!field.matches('input[type=search], input[type=number]')) return;
  clearTimeout(timers.get(field));
  const delay = field.type === 'number' ? 600 : 300;
  timers.set(field, setTimeout(() => {
    if (field.value !== field.defaultValue) autoSubmit(form);
  }, delay));
});

// --- 9. Submit: confirm if asked, then mark the button busy ------------------------

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
  if (form.method === 'dialog') return;
  const submitter = event.submitter || null;

  if (needsConfirm(form, submitter)) {
    event.preventDefault();
    runConfirm(form, submitter);
    return;
  }
  if (form.matches('li.task > form.toggle') && window.fetch) {
    event.preventDefault();
    toggleTask(form);
    return;
  }
  // A second submit while the first request is on its way is dropped, except for GET forms:
  // a newer search simply replaces the pending navigation.
  if (form.dataset.busy === 'yes' && form.method !== 'get') {
    event.preventDefault();
    return;
  }
  if (form.hasAttribute('data-no-busy') || form.hasAttribute('data-autosubmit')) return;
  if (form.target && form.target !== '_self') return;

  form.dataset.busy = 'yes';
  const button = submitter && submitter.matches('button, input') ? submitter
    : form.querySelector('button[type=submit], button:not([type]), input[type=submit]');
  // Wait a task (not only a microtask): the browser builds the form data after the submit
  // event, and a disabled submitter would be left out of it.
  setTimeout(() => {
    if (!button) return;
    button.setAttribute('aria-busy', 'true');
    button.disabled = true;
    const label = button.dataset.busyLabel;
    if (label) {
      button.dataset.idleHtml = button.innerHTML;
      if (button instanceof HTMLInputElement) button.value = label;
      else button.textContent = label;
    }
  }, 0);
  // Safety net for responses that do not leave the page (downloads, 204): re-enable later.
  setTimeout(() => resetForm(form), 10000);
});

function resetForm(form) {
  delete form.dataset.busy;
  delete form.dataset.confirmed;
  form.querySelector('input[data-added-by=confirm]')?.remove();
  for (const button of form.querySelectorAll('[aria-busy=true]')) {
    button.removeAttribute('aria-busy');
    button.disabled = false;
    if (button.dataset.idleHtml !== undefined) {
      if (button instanceof HTMLInputElement) button.value = button.dataset.idleHtml;
      else button.innerHTML = button.dataset.idleHtml;
      delete button.dataset.idleHtml;
    }
  }
}

// --- 10. Toasts --------------------------------------------------------------------
// <div class="toast" role="status" data-autohide="6000"> … <button class="toast-close" data-dismiss>…
// data-autohide (milliseconds, default 6000) removes it unless hovered or focused.

document.addEventListener('click', (event) => {
  const close = event.target.closest('.toast [data-dismiss]');
  if (close) close.closest('.toast').remove();
});

function armToast(toast) {
  const delay = Number(toast.dataset.autohide) || 6000;
  const tick = () => {
    if (!toast.isConnected) return;
    if (toast.matches(':hover, :focus-within')) setTimeout(tick, 1000);
    else toast.remove();
  };
  setTimeout(tick, delay);
}

// --- 10a. Copy to clipboard ----------------------------------------------------------
// <button data-copy="ID" hidden> copies the value (or text) of element ID; shown only where
// the clipboard API exists (the field stays selectable by hand without it).

function armCopy(button) {
  const target = document.getElementById(button.dataset.copy);
  if (!target || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener('click', () => {
    navigator.clipboard.writeText(target.value ?? target.textContent).then(
      () => showToast('Copied to the clipboard', 'success'),
      () => { target.select?.(); showToast('Could not copy: select the text and copy it by hand', 'error'); },
    );
  });
}

// --- 10b. Password strength ----------------------------------------------------------
// <input type="password" data-strength> gets a meter under it. Informational only: the
// server's rules (length ≥ 10, not the e-mail, not a common password) decide.

function strengthOf(pw) {
  if (!pw) return 0;
  let score = 0;
  if (pw.length >= 10) score += 1;
  if (pw.length >= 14) score += 1;
  if (/[a-z]/.test(pw) && /[A-Z]/.test(pw)) score += 1;
  if (/\d/.test(pw)) score += 1;
  if (/[^A-Za-z0-9]/.test(pw)) score += 1;
  return pw.length < 10 ? Math.min(score, 1) : score;
}

const STRENGTH = ['Too short', 'Weak', 'Fair', 'Good', 'Strong', 'Very strong'];

document.addEventListener('input', (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.matches('input[data-strength]')) return;
  let meter = input.parentElement.querySelector('.strength');
  if (!meter) {
    meter = document.createElement('p');
    meter.className = 'strength hint';
    meter.setAttribute('aria-live', 'polite');
    input.insertAdjacentElement('afterend', meter);
  }
  const score = strengthOf(input.value);
  meter.dataset.score = String(score);
  meter.textContent = input.value ? `Strength: ${STRENGTH[score]}` : '';
});

// --- 10c. Kanban -------------------------------------------------------------------------
// Cards (.kanban-card[data-deal]) move between columns (.kanban-col[data-stage]) by drag and
// drop, or from the keyboard with Alt+←/→ on a focused card. The move shows at once, persists
// with PATCH /api/deals/{id}, answers with a toast naming the deal and the stage (with Undo)
// and an announcement in the board's live region, and snaps back with a message when the
// server refuses. Without JS each card has a stage select that posts the move.

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });

/** A toast; `action` ({ label, run }) adds a button such as Undo. */
function showToast(message, kind, action) {
  const toast = document.createElement('div');
  toast.className = `toast toast-${kind}`;
  toast.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  toast.dataset.autohide = action ? '8000' : '6000';
  const text = document.createElement('span');
  text.textContent = message;
  toast.append(text);
  if (action) {
    const button = el('button', { type: 'button', class: 'toast-action' }, action.label);
    button.addEventListener('click', () => { toast.remove(); action.run(); });
    toast.append(button);
  }
  toast.append(el('button', { type: 'button', class: 'toast-close', 'data-dismiss': '', 'aria-label': 'Dismiss' }, '×'));
  // one notice at a time (they share a corner): the newest replaces the others, errors stay
  document.querySelectorAll('.toast:not(.toast-error)').forEach((t) => t.remove());
  document.body.append(toast);
  armToast(toast);
  return toast;
}

function shiftTotals(col, card, sign) {
  const count = col.querySelector('[data-count]');
  const total = col.querySelector('[data-total]');
  const value = Number(card.dataset.value) || 0;
  if (count) count.textContent = String(Math.max(0, Number(count.textContent) + sign));
  if (total) {
    const now = (Number(total.dataset.value ?? NaN) || Number(total.textContent.replace(/[^0-9.-]/g, '')) || 0) + sign * value;
    total.dataset.value = String(now);
    total.textContent = usd.format(now);
  }
}

function placeCard(card, col) {
  const from = card.closest('.kanban-col');
  col.querySelector('.kanban-empty')?.remove();
  col.querySelector('[data-dropzone]').prepend(card);
  if (from && !from.querySelector('.kanban-card')) {
    from.querySelector('[data-dropzone]').append(el('li', { class: 'muted kanban-empty' }, 'No deals in this stage'));
  }
}

function announce(text) {
  const live = document.querySelector('[data-kanban-live]');
  if (!live) return;
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 50);
}

const stageName = (col) => col.dataset.label || col.querySelector('h2')?.textContent || col.dataset.stage;
const dealName = (card) => card.querySelector('.kanban-name')?.textContent.trim() || 'The deal';

/** Move `card` to `col` now, then persist; roll back on refusal. `undo` marks an Undo move. */
async function moveCard(card, col, { undo = false } = {}) {
  const from = card.closest('.kanban-col');
  if (!from || from === col) return;
  const hadFocus = card.contains(document.activeElement);
  const select = card.querySelector('select[name=stage]');
  const previous = select?.value;
  placeCard(card, col);
  shiftTotals(from, card, -1);
  shiftTotals(col, card, +1);
  if (select) select.value = col.dataset.stage;
  if (hadFocus) card.querySelector('.kanban-name')?.focus();
  card.classList.remove('moved');
  void card.offsetWidth; // restart the short highlight
  card.classList.add('moved');
  const name = dealName(card);
  try {
    const csrf = document.querySelector('meta[name=csrf-token]')?.content || '';
    const res = await fetch(`/api/deals/${card.dataset.deal}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ stage: col.dataset.stage }),
    });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body.error || 'The server refused the move.');
    }
    card.dataset.stage = col.dataset.stage;
    const message = `${undo ? 'Moved back' : 'Moved'}: ${name} → ${stageName(col)}`;
    announce(message);
    showToast(message, 'success', undo ? null : { label: 'Undo', run: () => moveCard(card, from, { undo: true }) });
  } catch (err) {
    placeCard(card, from);
    shiftTotals(col, card, -1);
    shiftTotals(from, card, +1);
    if (select) select.value = previous;
    if (hadFocus) card.querySelector('.kanban-name')?.focus();
    announce(`Not moved: ${err.message}`);
    showToast(`Not moved: ${err.message}`, 'error');
  }
}

document.addEventListener('dragstart', (event) => {
  const card = event.target instanceof Element && event.target.closest('.kanban-card');
  if (!card) return;
  event.dataTransfer.setData('text/plain', card.dataset.deal);
  event.dataTransfer.effectAllowed = 'move';
  card.classList.add('dragging');
});

document.addEventListener('dragend', () => {
  document.querySelectorAll('.dragging, .drop-target').forEach((el) => el.classList.remove('dragging', 'drop-target'));
});

document.addEventListener('dragover', (event) => {
  const col = event.target instanceof Element && event.target.closest('.kanban-col');
  if (!col) return;
  event.preventDefault();
  document.querySelectorAll('.drop-target').forEach((el) => el !== col && el.classList.remove('drop-target'));
  col.classList.add('drop-target');
});

document.addEventListener('drop', (event) => {
  const col = event.target instanceof Element && event.target.closest('.kanban-col');
  if (!col) return;
  event.preventDefault();
  col.classList.remove('drop-target');
  const id = event.dataTransfer.getData('text/plain');
  const card = document.querySelector(`.kanban-card[data-deal="${CSS.escape(id)}"]`);
  if (card) moveCard(card, col);
});

// Alt+←/→ moves the focused card one stage; the card keeps the focus.
document.addEventListener('keydown', (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
  const card = event.target instanceof Element && event.target.closest('.kanban-card');
  if (!card || event.target.matches('select')) return;
  event.preventDefault(); // not the browser's Back / Forward
  const cols = [...document.querySelectorAll('.kanban-col[data-stage]')];
  const at = cols.indexOf(card.closest('.kanban-col'));
  const next = cols[at + (event.key === 'ArrowRight' ? 1 : -1)];
  if (next) {
    moveCard(card, next);
    next.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  } else {
    announce(`${dealName(card)} is already in ${stageName(cols[at])}`);
  }
});

// Print buttons (reports).
document.addEventListener('click', (event) => {
  if (event.target.closest('[data-print]')) window.print();
});

// --- 10d. Import progress ----------------------------------------------------------------
// [data-import-poll="/api/imports/{id}"] polls the job while it runs and fills the
// [data-import=…] slots; when it ends the page reloads to show the final report. Without JS
// the page has a Refresh link.

const nf = new Intl.NumberFormat('en-US');

async function pollImport(box) {
  if (box.dataset.polling === 'yes') return;
  box.dataset.polling = 'yes';
  const url = box.dataset.importPoll;
  const slot = (name) => box.querySelector(`[data-import="${name}"]`);
  for (;;) {
    await new Promise((resolve) => { setTimeout(resolve, 500); });
    if (!box.isConnected) return;
    let job;
    try {
      const res = await fetch(url, { headers: { Accept: 'application/json' } });
      if (!res.ok) return;
      job = (await res.json()).data;
    } catch {
      continue; // a network hiccup: try again
    }
    if (!job) return;
    const bar = slot('bar');
    if (bar) { bar.max = job.total || 1; bar.value = job.processed; }
    const percent = job.total ? Math.floor((job.processed * 100) / job.total) : 100;
    const fill = { processed: job.processed, created: job.created, updated: job.updated, skipped: job.skipped, failed: job.failed, companiesCreated: job.companiesCreated };
    for (const [name, value] of Object.entries(fill)) {
      const out = slot(name);
      if (out) out.textContent = nf.format(value);
    }
    const pct = slot('percent');
    if (pct) pct.textContent = String(percent);
    const status = slot('status');
    if (status) { status.textContent = job.status; status.className = `badge badge-${job.status}`; }
    if (job.status === 'done' || job.status === 'failed') {
      window.location.reload();
      return;
    }
  }
}

// --- 10f. Tasks and deletes in place ------------------------------------------------------
// The one-click task toggle (li.task > form.toggle) and a confirmed delete form carrying
// data-api-delete="/api/…" (and data-record="Task “Call back”") run through the JSON API and
// answer with a toast naming the record; completing offers Undo. A task that no longer belongs
// to its list (an open list and a completed task) leaves it; <ul data-shows="all|open|completed">
// says what a list shows (unmarked: all when it holds a done task, else open). Without JS the
// forms post and the server redirects.

const csrfToken = () => document.querySelector('meta[name=csrf-token]')?.content || '';

async function api(method, url, body) {
  const headers = { Accept: 'application/json', 'X-CSRF-Token': csrfToken() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) {
    const answer = await res.json().catch(() => ({}));
    throw new Error(answer.error || `The server answered ${res.status}.`);
  }
  return res;
}

/** “Title” of the task row (curly quotes, the way toasts name records). */
const taskTitle = (row) => row.querySelector('.task-title')?.textContent.trim() || '';

function setTaskState(row, completed) {
  const form = row.querySelector('form.toggle');
  const button = form?.querySelector('.check-btn');
  row.classList.toggle('done', completed);
  if (completed) row.classList.remove('overdue');
  const field = form?.querySelector('input[name=completed]');
  if (field) field.value = completed ? 'false' : 'true';
  if (button) {
    button.setAttribute('aria-pressed', String(completed));
    button.setAttribute('aria-label', `${completed ? 'Reopen' : 'Complete'} ${taskTitle(row)}`);
  }
}

function listKeeps(list, row, completed) {
  const shows = list.dataset.shows;
  if (shows === 'all') return true;
  if (shows === 'completed') return completed;
  if (shows === 'open') return !completed;
  return !completed || [...list.querySelectorAll('li.task.done')].some((other) => other !== row);
}

/** Takes `row` out of its list; returns where it was, to put it back. */
function takeOut(row) {
  const list = row.parentElement;
  const place = { list, next: row.nextElementSibling };
  const hadFocus = row.contains(document.activeElement);
  const neighbour = row.nextElementSibling || row.previousElementSibling;
  row.remove();
  if (!list.querySelector('li.task:not(.task-empty)')) {
    list.append(el('li', { class: 'task task-empty muted' }, 'No tasks left here.'));
  }
  if (hadFocus) neighbour?.querySelector('button, a')?.focus();
  return place;
}

function putBack(row, place) {
  place.list.querySelector('.task-empty')?.remove();
  const next = place.next && place.next.parentElement === place.list ? place.next : null;
  place.list.insertBefore(row, next);
}

/** Completes or reopens the task of `form` (what its hidden field says); `undo` marks an Undo. */
async function toggleTask(form, { undo = false } = {}) {
  const row = form.closest('li.task');
  const id = form.getAttribute('action').split('/')[2];
  if (!row || !id || form.dataset.busy === 'yes') return;
  const completed = form.querySelector('input[name=completed]')?.value === 'true';
  const title = taskTitle(row);
  form.dataset.busy = 'yes';
  try {
    await api('PATCH', `/api/tasks/${encodeURIComponent(id)}`, { completed });
  } catch (err) {
    showToast(`Task “${title}” not ${completed ? 'completed' : 'reopened'}: ${err.message}`, 'error');
    return;
  } finally {
    delete form.dataset.busy;
  }
  setTaskState(row, completed);
  let place = null;
  if (row.parentElement && !listKeeps(row.parentElement, row, completed)) place = takeOut(row);
  const message = `Task “${title}” ${completed ? 'completed' : 'reopened'}`;
  const toast = showToast(message, 'success', undo ? null : {
    label: 'Undo',
    run: () => {
      if (place && !row.isConnected) putBack(row, place);
      toggleTask(form, { undo: true }).then(() => row.querySelector('.check-btn')?.focus());
    },
  });
  if (place && !row.isConnected && !place.list.querySelector('li.task:not(.task-empty)')) toast.querySelector('.toast-action')?.focus();
}

/** A confirmed delete through the API: the item leaves its list, a toast names it and offers
 *  Undo (POST <the delete's URL>/restore brings the record back as it was, for an hour). */
async function deleteInPlace(form) {
  const what = form.dataset.record || 'The record';
  const url = form.dataset.apiDelete;
  const button = form.querySelector('button[type=submit], button:not([type])');
  if (button) button.disabled = true;
  try {
    await api('DELETE', url);
  } catch (err) {
    if (button) button.disabled = false;
    showToast(`${what} not deleted: ${err.message}`, 'error');
    return;
  }
  const message = `${what} deleted`;
  if (form.dataset.then) {
    // the record's page is gone: the next page shows the toast, its Undo comes back here
    const back = window.location.pathname + window.location.search;
    try { sessionStorage.setItem('crm-flash', JSON.stringify({ message, undo: `${url}/restore`, what, back })); } catch { /* private mode: no toast */ }
    window.location.assign(form.dataset.then);
    return;
  }
  const item = form.closest('li, tr');
  let place = null;
  if (item?.matches('li.task')) place = takeOut(item);
  else if (item) {
    place = { list: item.parentElement, next: item.nextElementSibling };
    const neighbour = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    neighbour?.querySelector('button, a')?.focus();
  }
  showToast(message, 'success', {
    label: 'Undo',
    run: () => undoDelete(`${url}/restore`, what, () => {
      if (!item || !place) return;
      if (item.matches('li.task')) putBack(item, place);
      else place.list.insertBefore(item, place.next?.parentElement === place.list ? place.next : null);
      if (button) button.disabled = false;
      item.querySelector('button, a')?.focus();
    }),
  });
}

/** Undo of a delete: the record is restored on the server, then `done` puts it on the page. */
async function undoDelete(restoreUrl, what, done) {
  try {
    await api('POST', restoreUrl);
  } catch (err) {
    showToast(`${what} not restored: ${err.message}`, 'error');
    return;
  }
  done();
  showToast(`${what} restored`, 'success');
}

// --- 10e. Scroll boxes -------------------------------------------------------------------
// A table box (.table-wrap) that scrolls but holds nothing focusable gets a tab stop, the
// region role and a name (its caption or its card's heading), so the keyboard can scroll it.

function scrollBoxes() {
  for (const box of document.querySelectorAll('.table-wrap')) {
    const scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
    const inner = box.querySelector('a[href], button, input, select, textarea, [tabindex]');
    if (scrolls && !inner && !box.hasAttribute('tabindex')) {
      const heading = box.querySelector('caption')
        || box.closest('section, .card, figure')?.querySelector('h2, h3, figcaption');
      box.tabIndex = 0;
      box.dataset.scrollBox = '';
      if (!box.hasAttribute('role')) box.setAttribute('role', 'region');
      if (!box.hasAttribute('aria-label')) box.setAttribute('aria-label', heading?.textContent.trim() || 'Table');
    } else if (!scrolls && box.hasAttribute('data-scroll-box')) {
      box.removeAttribute('tabindex');
      box.removeAttribute('role');
      box.removeAttribute('aria-label');
      delete box.dataset.scrollBox;
    }
  }
}

let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(scrollBoxes, 150);
});

// --- 11. Start-up -------------------------------------------------------------------

function init() {
  scrollBoxes();
  const forms = new Set();
  for (const box of document.querySelectorAll('input[type=checkbox][name=ids], input[type=checkbox][data-select-all]')) {
    if (box.form) forms.add(box.form);
  }
  forms.forEach(updateSelection);
  document.querySelectorAll('.toast[data-autohide]').forEach(armToast);
  document.querySelectorAll('[data-import-poll]').forEach((box) => { pollImport(box); });
  document.querySelectorAll('button[data-copy]').forEach(armCopy);
}

init();

// A toast handed over by the page before (a delete that then left the record's page).
try {
  const flash = sessionStorage.getItem('crm-flash');
  if (flash) {
    sessionStorage.removeItem('crm-flash');
    const f = JSON.parse(flash);
    showToast(f.message, 'success', f.undo && {
      label: 'Undo',
      run: () => undoDelete(f.undo, f.what, () => window.location.assign(f.back)),
    });
  }
} catch { /* storage off */ }

/* Pickers: a <select data-picker> becomes one search-as-you-type control, a WAI-ARIA 1.2
   combobox (an input with a listbox popup). The select stays in the form, hidden, and holds
   the value, so the form posts exactly what it posts without JavaScript — where the plain
   select is used. data-picker="contacts" searches the whole book through
   GET /api/contacts?search= (the server lists only the newest contacts in the select);
   data-picker="options" filters the select's own options. */
let pickerSeq = 0;

/** The × of a clear button, drawn like the server's icons (24 box, stroked). */
function crossIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', 'M6.5 6.5l11 11M17.5 6.5l-11 11');
  svg.append(path);
  return svg;
}

/** "Ada Lovelace (ada@example.com)", as the server labels a contact → name and e-mail. */
function splitLabel(text) {
  const match = /^(.*\S)\s+\(([^()]*@[^()]*)\)$/.exec(text.trim());
  return match ? { name: match[1], detail: match[2] } : { name: text.trim(), detail: '' };
}

/** Lower case without accents, for matching what was typed. */
const fold = (text) => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

function enhancePicker(select) {
  const remote = select.dataset.picker === 'contacts';
  const base = select.id || `picker-${++pickerSeq}`;
  const label = select.id ? document.querySelector(`label[for="${CSS.escape(select.id)}"]`) : null;
  const optional = !select.required && !label?.querySelector('.req');
  const blank = [...select.options].find((o) => o.value === '');
  const name = (label?.textContent || 'value').replace('*', '').trim();

  const input = el('input', {
    type: 'text', id: `${base}-combo`, class: 'combo-input', role: 'combobox',
    'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': `${base}-listbox`,
    autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false',
    placeholder: remote ? 'Search by name, e-mail or phone…' : (blank?.text || 'Type to filter…'),
  });
  for (const attr of ['aria-invalid', 'aria-describedby']) {
    if (select.hasAttribute(attr)) input.setAttribute(attr, select.getAttribute(attr));
  }
  if (!optional) input.setAttribute('aria-required', 'true');
  input.disabled = select.disabled;
  const list = el('ul', { id: `${base}-listbox`, role: 'listbox', class: 'combo-list' });
  if (label) {
    label.id ||= `${base}-label`;
    label.htmlFor = input.id;
    list.setAttribute('aria-labelledby', label.id);
  } else {
    list.setAttribute('aria-label', name);
  }
  const status = el('p', { class: 'combo-status', 'aria-hidden': 'true' });
  const popup = el('div', { class: 'combo-popup', hidden: '' }, status, list);
  const live = el('span', { class: 'sr-only', role: 'status' });
  const clear = el('button', { type: 'button', class: 'combo-clear', 'aria-label': `Clear ${name}`, hidden: '' }, crossIcon());
  const box = el('div', { class: 'combo' }, input, clear, popup, live);
  select.before(box);
  select.hidden = true;
  select.tabIndex = -1;
  select.setAttribute('aria-hidden', 'true');

  let items = [];     // what the list shows: { value, name, detail }
  let active = -1;    // the option aria-activedescendant points at
  let timer = 0;
  let pending = null; // the AbortController of the search in flight

  const pickedName = () => {
    const option = select.selectedOptions[0];
    return option && option.value ? splitLabel(option.text).name : '';
  };
  const sync = () => {
    input.value = pickedName();
    clear.hidden = !optional || !select.value || input.disabled;
  };
  const isOpen = () => !popup.hidden;
  const cancel = () => {
    clearTimeout(timer);
    pending?.abort();
    pending = null;
  };
  const show = (text) => {
    status.textContent = text;
    status.hidden = !text;
  };
  const open = () => {
    // near the bottom of the window (a phone's form), the list opens upwards if there is
    // more room above
    const r = input.getBoundingClientRect();
    const below = window.innerHeight - r.bottom;
    box.classList.toggle('combo-up', below < 240 && r.top > below);
    popup.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  };
  const close = () => {
    cancel();
    popup.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    move(-1);
  };

  function move(index) {
    list.querySelector('[aria-selected=true]')?.setAttribute('aria-selected', 'false');
    active = index;
    const option = list.children[index];
    if (option) {
      option.setAttribute('aria-selected', 'true');
      input.setAttribute('aria-activedescendant', option.id);
      option.scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function render(found, none) {
    items = found;
    list.replaceChildren(...found.map((item, i) => {
      const option = el('li', { id: `${base}-opt-${i}`, role: 'option', class: 'combo-option', 'aria-selected': 'false', 'data-index': String(i) },
        el('span', { class: 'combo-name' }, item.name));
      if (item.detail) option.append(el('span', { class: 'combo-detail' }, item.detail));
      if (item.value === select.value) option.classList.add('is-picked');
      return option;
    }));
    active = -1;
    input.removeAttribute('aria-activedescendant');
    show(found.length ? '' : none);
    live.textContent = found.length ? `${found.length} ${found.length === 1 ? 'match' : 'matches'}, arrow keys to choose` : none;
    open();
  }

  /** The select's own options, filtered by what was typed. */
  const local = (query) => {
    const wanted = fold(query.trim());
    return [...select.options]
      .filter((o) => o.value !== '' && !o.disabled)
      .map((o) => ({ value: o.value, ...splitLabel(o.text) }))
      .filter((item) => !wanted || fold(`${item.name} ${item.detail}`).includes(wanted));
  };

  function search() {
    cancel();
    const query = input.value.trim();
    if (!remote || !query) {
      render(local(query), remote ? 'No contacts yet' : 'No matches');
      return;
    }
    // a new search: the old results go at once, so Enter cannot pick a stale one
    items = [];
    list.replaceChildren();
    move(-1);
    show('Searching…');
    open();
    timer = setTimeout(async () => {
      const mine = new AbortController();
      pending = mine;
      try {
        const res = await fetch(`/api/contacts?search=${encodeURIComponent(query)}&limit=20`, {
          headers: { Accept: 'application/json' }, credentials: 'same-origin', signal: mine.signal,
        });
        if (!res.ok) throw new Error(String(res.status));
        const body = await res.json();
        if (pending !== mine) return;
        pending = null;
        render((body.data || []).map((c) => ({ value: c.id, name: `${c.firstName} ${c.lastName}`.trim(), detail: c.email || '' })), 'No contacts match');
      } catch {
        if (mine.signal.aborted || pending !== mine) return;
        pending = null;
        show('Could not search — try again');
        live.textContent = 'Could not search';
      }
    }, 150);
  }

  /** Open on the whole list (what the server listed), the picked one active. */
  function browse(last) {
    render(local(''), remote ? 'No contacts yet' : 'No matches');
    const picked = items.findIndex((item) => item.value === select.value);
    if (items.length) move(picked >= 0 ? picked : last ? items.length - 1 : 0);
  }

  function choose(item) {
    let option = [...select.options].find((o) => o.value === item.value);
    if (!option) {
      option = new Option(item.detail ? `${item.name} (${item.detail})` : item.name, item.value);
      select.add(option);
    }
    const changed = select.value !== item.value;
    select.value = item.value;
    close();
    sync();
    if (changed) select.dispatchEvent(new Event('change', { bubbles: true }));
  }

  input.addEventListener('input', search);
  input.addEventListener('click', () => { if (!isOpen()) browse(false); });
  input.addEventListener('keydown', (event) => {
    if (event.isComposing) return;
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        event.preventDefault();
        const down = event.key === 'ArrowDown';
        if (!isOpen()) {
          if (input.value !== pickedName()) search(); else browse(!down);
          return;
        }
        if (event.altKey && !down) { close(); sync(); return; }
        const last = items.length - 1;
        if (last < 0) return;
        if (active < 0) move(down ? 0 : last);
        else if (down) move(active >= last ? 0 : active + 1);
        else move(active <= 0 ? last : active - 1);
        return;
      }
      case 'Enter':
        // picks; never submits the half-filled form
        event.preventDefault();
        if (!isOpen()) return;
        if (active >= 0) choose(items[active]);
        else if (items.length === 1) choose(items[0]);
        return;
      case 'Escape':
        if (isOpen() || input.value !== pickedName()) {
          event.preventDefault();
          close();
          sync();
        }
        return;
      default:
    }
  });

  // mouse and touch: pressing an option does not take the focus from the input
  popup.addEventListener('mousedown', (event) => event.preventDefault());
  list.addEventListener('click', (event) => {
    const option = event.target.closest('[role=option]');
    if (!option) return;
    choose(items[Number(option.dataset.index)]);
    input.focus();
  });
  clear.addEventListener('click', () => {
    select.value = '';
    input.focus();
    close();
    sync();
    select.dispatchEvent(new Event('change', { bubbles: true }));
  });
  // leaving (Tab, a click elsewhere) keeps the last pick; an emptied optional field is cleared
  box.addEventListener('focusout', (event) => {
    if (box.contains(event.relatedTarget)) return;
    if (optional && select.value && !input.value.trim()) {
      select.value = '';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    }
    close();
    sync();
  });
  select.addEventListener('change', sync);
  select.form?.addEventListener('reset', () => setTimeout(sync));
  window.addEventListener('pageshow', sync);
  sync();
}

for (const select of document.querySelectorAll('select[data-picker="contacts"], select[data-picker="options"]')) {
  enhancePicker(select);
}

/* Forms: one that came back with errors puts the focus on its first invalid field (the
   message is tied to it with aria-describedby); a new-record page (/…/new, where the `n`
   shortcut leads) starts in its first field. Only when nothing else has the focus yet. */
function focusForm() {
  if (document.activeElement && document.activeElement !== document.body) return;
  const visible = (node) => node && !node.disabled && node.type !== 'hidden' && node.getClientRects().length > 0;
  const invalid = [...document.querySelectorAll('main form [aria-invalid=true], main form .field.invalid :is(input, select, textarea)')]
    .filter(visible);
  const forms = [...document.querySelectorAll('main form')].filter((form) => form.matches('.form, [data-focus-first]'));
  let target = invalid.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1))[0];
  if (!target && forms.length && document.querySelector('main .alert-error')) {
    target = [...forms[0].elements].find((node) => node.matches('input, select, textarea') && visible(node));
  }
  if (!target && /\/new$/.test(window.location.pathname)) {
    target = forms.flatMap((form) => [...form.elements]).find((node) => node.matches('input, select, textarea') && visible(node));
  }
  if (target) target.focus();
}

focusForm();

// Back/forward cache: the page comes back as it was left, busy buttons included.
window.addEventListener('pageshow', (event) => {
  if (!event.persisted) return;
  document.querySelectorAll('form').forEach(resetForm);
  init();
});

/* Live figures: a region marked data-refresh="<seconds>" (dashboard, reports) is re-read
   from the server every so often while the tab is visible, when the window regains focus
   and when the network comes back — the region only, never the whole page. */
const live = document.querySelector('[data-refresh]');
if (live && live.id) {
  const every = Number(live.dataset.refresh || 60) * 1000;
  const status = document.querySelector('[data-refresh-status]');
  let last = Date.now();
  let busy = false;
  const refresh = async () => {
    if (busy || document.visibilityState !== 'visible') return;
    busy = true;
    try {
      const res = await fetch(window.location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
      if (!res.ok) throw new Error(String(res.status));
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const fresh = doc.getElementById(live.id);
      if (fresh) live.replaceChildren(...fresh.childNodes);
      scrollBoxes();
      last = Date.now();
      if (status) status.textContent = `Updated ${new Date(last).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
    } catch {
      if (status) status.textContent = 'Could not refresh — showing earlier figures';
    } finally {
      busy = false;
    }
  };
  setInterval(refresh, every);
  const soon = () => { if (Date.now() - last > 5000) refresh(); };
  window.addEventListener('focus', soon);
  window.addEventListener('online', refresh);
  document.addEventListener('visibilitychange', soon);
}
