"""The page as text an agent can act on: a pruned DOM in which every interactive element has an id.

Ids are written into the DOM (`data-agentgym-id`) the first time an element is seen and never
change while the element lives, so an id from one observation still works in the next. They
restart at 1 on every page load, in document order, which keeps episodes reproducible.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

ID_ATTR = "data-agentgym-id"

# Runs in the page. Returns {lines, elements}. `opts.leaves`: also give ids to visible leaf
# elements with text and to SVG shapes (MiniWoB++ pages attach click handlers to plain divs).
_WALK_JS = r"""
(opts) => {
  // a redirect page about to replace itself, or a document still arriving: look again shortly
  if (document.readyState === 'loading' || document.querySelector('meta[name="agentgym-redirect"]'))
    return {redirecting: true};
  const ID = 'data-agentgym-id';
  if (window.__agentgymNextId === undefined) window.__agentgymNextId = 1;
  const SKIP = new Set(['script', 'style', 'noscript', 'template', 'head', 'meta', 'link', 'title']);
  const STRONG = new Set(['a', 'button', 'input', 'select', 'textarea', 'summary']);
  const ROLES = new Set(['button', 'link', 'checkbox', 'radio', 'tab', 'menuitem', 'option',
    'switch', 'textbox', 'combobox', 'searchbox', 'slider', 'spinbutton', 'listbox', 'treeitem']);
  const SHAPES = new Set(['circle', 'rect', 'polygon', 'ellipse', 'path', 'line', 'text']);
  const clean = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const quote = (s) => '"' + clean(s).replace(/"/g, "'").slice(0, 120) + '"';

  const visible = (el) => {
    if (el.getAttribute('aria-hidden') === 'true' || el.hidden) return false;
    if (el.checkVisibility) return el.checkVisibility({checkVisibilityCSS: true, checkOpacity: false});
    const st = getComputedStyle(el);
    return st.display !== 'none' && st.visibility !== 'hidden';
  };
  const textOf = (node, skip) => {
    if (node.nodeType === 3) return node.textContent;
    if (node.nodeType !== 1 || node === skip) return '';
    const tag = node.tagName.toLowerCase();
    if (SKIP.has(tag) || tag === 'select' || tag === 'textarea') return '';
    if (tag === 'img') return ' ' + (node.getAttribute('alt') || '') + ' ';
    let out = '';
    for (const c of node.childNodes) out += textOf(c, skip);
    return out;
  };
  const role = (el) => {
    const explicit = el.getAttribute('role');
    if (explicit) return explicit.split(' ')[0];
    const tag = el.tagName.toLowerCase();
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    if (tag === 'a') return el.hasAttribute('href') ? 'link' : 'generic';
    if (tag === 'button' || tag === 'summary') return 'button';
    if (tag === 'select') return (el.multiple || el.size > 1) ? 'listbox' : 'combobox';
    if (tag === 'textarea') return 'textbox';
    if (tag === 'input') {
      if (['button', 'submit', 'reset', 'image'].includes(type)) return 'button';
      if (type === 'checkbox' || type === 'radio') return type;
      if (type === 'range') return 'slider';
      if (type === 'number') return 'spinbutton';
      if (type === 'search') return 'searchbox';
      return 'textbox';
    }
    if (el instanceof SVGElement) return 'graphics';
    return 'clickable';
  };
  const name = (el) => {
    const aria = el.getAttribute('aria-label');
    if (clean(aria)) return clean(aria);
    const by = el.getAttribute('aria-labelledby');
    if (by) {
      const t = by.split(/\s+/).map((i) => document.getElementById(i)).filter(Boolean)
        .map((n) => textOf(n, null)).join(' ');
      if (clean(t)) return clean(t);
    }
    const tag = el.tagName.toLowerCase();
    if (tag === 'input' || tag === 'select' || tag === 'textarea') {
      const type = (el.getAttribute('type') || '').toLowerCase();
      if (['submit', 'button', 'reset'].includes(type))
        return clean(el.value) || (type === 'submit' ? 'Submit' : type === 'reset' ? 'Reset' : '');
      if (type === 'image') return clean(el.getAttribute('alt'));
      if (el.labels && el.labels.length)
        return clean(Array.from(el.labels).map((l) => textOf(l, el)).join(' '));
      return clean(el.getAttribute('placeholder') || el.getAttribute('title') || '');
    }
    return clean(textOf(el, null)) || clean(el.getAttribute('title'));
  };
  const hasStrongInside = (el) => !!el.querySelector('a[href],button,input,select,textarea,[role]');
  const pointerStartsHere = (el) => {
    if (getComputedStyle(el).cursor !== 'pointer') return false;
    const p = el.parentElement;
    return !p || getComputedStyle(p).cursor !== 'pointer';
  };
  const kind = (el) => {
    const tag = el.tagName.toLowerCase();
    if (tag === 'input' && (el.getAttribute('type') || '').toLowerCase() === 'hidden') return null;
    if (STRONG.has(tag) && !(tag === 'a' && !el.hasAttribute('href') && !el.onclick)) return 'strong';
    if (ROLES.has(el.getAttribute('role')) || el.isContentEditable && el.getAttribute('contenteditable') !== null)
      return 'strong';
    if (hasStrongInside(el)) return null;
    if (el.hasAttribute('onclick') || pointerStartsHere(el)) return 'weak';
    if (el.hasAttribute('tabindex') && el.getAttribute('tabindex') !== '-1') return 'weak';
    if (opts.leaves && (SHAPES.has(tag) && el instanceof SVGElement)) return 'weak';
    if (opts.leaves && el.children.length === 0 && clean(el.textContent) && el.closest('#area'))
      return 'weak';
    return null;
  };

  const lines = [], elements = [];
  let cur = '';
  const flush = () => { const t = clean(cur); if (t) lines.push(t); cur = ''; };
  const token = (el) => {
    if (!el.hasAttribute(ID)) el.setAttribute(ID, String(window.__agentgymNextId++));
    const id = el.getAttribute(ID), r = role(el), n = name(el), tag = el.tagName.toLowerCase();
    let t = '[' + id + ' ' + r + (n ? ' ' + quote(n) : '');
    if (tag === 'input' || tag === 'textarea') {
      const type = (el.getAttribute('type') || '').toLowerCase();
      if (type === 'checkbox' || type === 'radio') t += el.checked ? ' checked' : ' unchecked';
      else if (type === 'password') t += el.value ? ' value="••••"' : '';
      else if (!['submit', 'button', 'reset', 'image'].includes(type)) t += ' value=' + quote(el.value);
    } else if (tag === 'select') {
      const chosen = Array.from(el.selectedOptions).map((o) => clean(o.text)).join(', ');
      const all = Array.from(el.options).slice(0, 25).map((o) => clean(o.text)).join(' | ');
      t += ' value=' + quote(chosen) + ' options=' + quote(all).slice(0, 400);
    }
    if (el.disabled) t += ' disabled';
    elements.push({id: Number(id), role: r, name: n, tag: tag,
      attrs: {id: el.id || '', name: el.getAttribute('name') || '', type: el.getAttribute('type') || ''}});
    return t + ']';
  };
  const walk = (node) => {
    if (node.nodeType === 3) { cur += node.textContent; return; }
    if (node.nodeType !== 1) return;
    const el = node, tag = el.tagName.toLowerCase();
    if (SKIP.has(tag) || !visible(el)) return;
    const display = getComputedStyle(el).display;
    const block = !display.startsWith('inline') && display !== 'contents' && !display.startsWith('table-cell');
    if (block || tag === 'br') flush();
    const k = kind(el);
    if (k) { cur += ' ' + token(el) + ' '; if (block) flush(); return; }
    if (/^h[1-6]$/.test(tag)) cur += '#'.repeat(Number(tag[1])) + ' ';
    else if (tag === 'li') cur += '- ';
    else if (tag === 'img' && clean(el.getAttribute('alt'))) cur += ' [image ' + quote(el.getAttribute('alt')) + '] ';
    else if (display.startsWith('table-cell') && clean(cur)) cur += ' | ';
    for (const c of el.childNodes) walk(c);
    if (block) flush();
  };
  const root = (opts.root && document.querySelector(opts.root)) || document.body;
  if (root) walk(root);
  flush();
  return {lines: lines, elements: elements, title: document.title};
}
"""


@dataclass
class Element:
    id: int
    role: str
    name: str
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class PageView:
    """What one observation shows of a page."""

    url: str
    title: str
    text: str
    elements: list[Element]
    truncated: bool = False

    def element(self, element_id: int) -> Element | None:
        return next((e for e in self.elements if e.id == element_id), None)


_RETRYABLE = ("execution context was destroyed", "navigat", "target closed", "frame was detached")


async def read_page(page: Any, max_chars: int = 12_000, leaves: bool = False, root: str | None = None) -> PageView:
    """Render `page` (or its `root` element; waiting out a navigation in flight) in `max_chars` at most."""
    last: Exception | None = None
    for _ in range(200):
        try:  # one round trip when the page is ready, which is the usual case
            raw = await page.evaluate(_WALK_JS, {"leaves": leaves, "root": root})
            if raw.get("redirecting"):  # a redirect page about to replace itself: wait for the target
                await asyncio.sleep(0.01)
                await page.wait_for_load_state("domcontentloaded", timeout=5_000)
                continue
            break
        except Exception as e:  # the page navigated under us: look again
            if not any(s in str(e).lower() for s in _RETRYABLE):
                raise
            last = e
            await asyncio.sleep(0.02)
    else:
        raise RuntimeError(f"the page kept navigating: {last}")
    text = "\n".join(raw["lines"])
    truncated = len(text) > max_chars
    if truncated:
        text = text[:max_chars].rsplit("\n", 1)[0] + "\n[... page truncated: scroll or refine the page ...]"
    elements = [Element(**e) for e in raw["elements"]]
    return PageView(url=page.url, title=raw["title"], text=text, elements=elements, truncated=truncated)
