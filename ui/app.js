/*
 * agentd inspector: sessions, the live event view, the composer, and the
 * buttons that answer permissions and questions (see index.html); the
 * Files view (/v1/fs) and the Terminal view (xterm.js on a pty process).
 *
 * API calls go to ROOT + "v1/...", ROOT being the folder above /ui/ as the
 * browser sees it, so a proxy's path prefix is kept. The token comes from
 * ?access_token= or a prompt, is kept in sessionStorage (this tab only),
 * and goes with every call: an Authorization header for fetch, and
 * ?access_token= for EventSource, which cannot send headers. The live view
 * replays a session's log over SSE and follows it; on any error it
 * reconnects itself with ?offset= the last sequence it rendered, so nothing
 * is lost or shown twice.
 */
'use strict';
const $ = s => document.querySelector(s);
const logEl = $('#feed'), scrollEl = $('#log');
/* The API root relative to this page: ".../ui/" -> ".../". */
const ROOT = (location.pathname.match(/^(.*\/)ui(\/[^/]*)?$/) || [0, '../'])[1];
const qs = new URLSearchParams(location.search);
let token = qs.get('access_token') || sessionStorage.getItem('agentd.token') || '';
if (token) sessionStorage.setItem('agentd.token', token);

let sessions = [], cur = null, es = null, lastSeq = 0, retries = 0, timer = 0, gen = 0;
let items = new Map(), calls = new Map(), cards = new Map(), follow = true, asking = null;

function h(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	for (const k in attrs || {}) {
		const v = attrs[k];
		if (v == null || v === false) continue;
		if (k === 'class') e.className = v;
		else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
		else e.setAttribute(k, v === true ? '' : v);
	}
	for (const c of kids.flat()) if (c != null && c !== false) e.append(c);
	return e;
}
const enc = encodeURIComponent;
function toast(msg) {
	const d = h('div', null, String(msg));
	$('#toast').append(d);
	setTimeout(() => d.remove(), 6000);
}
function pretty(s) {
	if (typeof s !== 'string') return JSON.stringify(s, null, 2);
	try { return JSON.stringify(JSON.parse(s), null, 2); } catch (e) { return s; }
}
function oneLine(s, n) {
	if (typeof s !== 'string') s = JSON.stringify(s);
	try { s = JSON.stringify(JSON.parse(s)); } catch (e) {}
	s = (s || '').replace(/\s+/g, ' ').trim();
	return s.length > n ? s.slice(0, n - 1) + '\u2026' : s;
}

/* Token: ?access_token=, sessionStorage, or ask. */
function askToken(why) {
	if (asking) return asking;
	$('#tokwhy').textContent = why || 'This agentd needs its access token.';
	$('#tokin').value = token;
	const d = $('#tokdlg');
	asking = new Promise(res => {
		d.onclose = () => {
			asking = null;
			if (d.returnValue === 'ok') {
				token = $('#tokin').value.trim();
				sessionStorage.setItem('agentd.token', token);
				res(true);
				start();
			} else res(false);
		};
	});
	d.returnValue = '';
	d.showModal();
	return asking;
}
$('#tokbtn').onclick = () => askToken('The access token for API calls (kept in this tab only).');

/* A call with the token; a body of bytes when type is given, else JSON. */
async function call(method, path, body, type) {
	const hd = {};
	if (token) hd.Authorization = 'Bearer ' + token;
	if (body !== undefined) hd['Content-Type'] = type || 'application/json';
	const r = await fetch(ROOT + path, { method, headers: hd,
	    body: body === undefined || type ? body : JSON.stringify(body) });
	if (!r.ok) {
		let d = r.status + ' ' + r.statusText;
		if (r.status === 401) {
			askToken(token ? 'The token was refused; enter the right one.' : undefined);
			d = 'the access token is missing or wrong';
		} else try { d = (await r.json()).detail || d; } catch (e) {}
		throw Object.assign(new Error(d), { status: r.status });
	}
	return r;
}
async function api(method, path, body) {
	const r = await call(method, path, body);
	return r.status === 204 ? null : r.json();
}
const sp = () => 'v1/sessions/' + enc(cur);

/* Sessions list and the selected session's bar. */
async function refresh() {
	try {
		sessions = (await api('GET', 'v1/sessions')).sessions || [];
	} catch (e) { return; }
	sessions.sort((a, b) => (b.createdAt || 0) - (a.createdAt || 0));
	const ul = $('#sessions');
	ul.replaceChildren(...sessions.map(s => {
		const ask = (s.pendingPermissions || []).length + (s.pendingQuestions || []).length;
		return h('li', { class: s.sessionId === cur ? 'sel' : null, 'data-id': s.sessionId,
		    title: s.directory || '', onclick: () => select(s.sessionId) },
		    h('span', { class: 'sid' }, s.sessionId), h('span', { class: 'dim' }, s.agent),
		    h('span', { class: 'grow' }),
		    ask ? h('span', { class: 'badge ask' }, 'asks') : null,
		    h('span', { class: 'badge ' + s.state }, s.state));
	}));
	if (!sessions.length) ul.append(h('li', { class: 'dim' }, 'none yet'));
	bar();
}
function bar() {
	const s = sessions.find(x => x.sessionId === cur);
	$('#title').textContent = cur || 'No session selected';
	$('#title').className = cur ? '' : 'dim';
	$('#state').replaceChildren(s ? h('span', { class: 'badge ' + s.state }, s.state) : '');
	$('#info').textContent = s ? s.agent + (s.model ? ' \u00b7 ' + s.model : '') + ' \u00b7 ' +
	    (s.directory || '') + ' \u00b7 ' + (s.permissionMode || 'default') : '';
	const ended = !s || s.ended || s.state === 'ended';
	$('#cancel').disabled = !s || s.state !== 'running';
	$('#terminate').disabled = ended;
	$('#delete').disabled = !s;
	$('#msg').disabled = $('#send').disabled = ended;
}
let soon = 0;
function refreshSoon() { clearTimeout(soon); soon = setTimeout(refresh, 150); }

async function loadAgents() {
	try {
		const a = (await api('GET', 'v1/agents')).agents || [];
		const sel = $('#agent'), was = sel.value || 'mock';
		sel.replaceChildren(...a.map(x => h('option', { value: x.id },
		    x.id + (x.installed === false ? ' (not installed)' : ''))));
		sel.value = a.some(x => x.id === was) ? was : (a[0] || {}).id;
	} catch (e) {}
	try { $('#ver').textContent = 'v' + (await api('GET', 'v1/health')).version; } catch (e) {}
}

$('#create').onsubmit = async ev => {
	ev.preventDefault();
	const f = ev.target, body = { agent: f.agent.value };
	for (const k of ['cwd', 'permissionMode', 'model'])
		if (f[k].value.trim()) body[k] = f[k].value.trim();
	const id = f.id.value.trim() || body.agent + '-' + Date.now().toString(36).slice(-5);
	try {
		await api('POST', 'v1/sessions/' + enc(id), body);
		f.id.value = '';
		await refresh();
		select(id);
	} catch (e) { toast('create: ' + e.message); }
};

/* Selecting a session: replay its log from the start, then follow it. */
function select(id) {
	if (es) es.close();
	clearTimeout(timer);
	es = null; cur = id; lastSeq = 0; retries = 0; gen++;
	items = new Map(); calls = new Map(); cards = new Map(); follow = true;
	logEl.replaceChildren();
	history.replaceState(null, '', id ? '#' + enc(id) : location.pathname + location.search);
	for (const li of document.querySelectorAll('#sessions li'))
		li.classList.toggle('sel', li.dataset.id === id);
	bar();
	if (id) { connect(); $('#msg').focus(); }
	else logEl.append(h('p', { class: 'empty' }, 'Create a session or pick one on the left.'));
}
function conn(cls, label) { $('#conn').className = 'dot ' + cls; $('#connl').textContent = label; }
function connect() {
	const g = gen;
	let url = ROOT + sp() + '/events/sse?offset=' + lastSeq;
	if (token) url += '&access_token=' + enc(token);
	es = new EventSource(url);
	conn('wait', 'connecting');
	es.onopen = () => { retries = 0; conn('live', 'live'); };
	es.onmessage = m => {
		let e;
		try { e = JSON.parse(m.data); } catch (x) { return; }
		if (g !== gen || !(e.sequence > lastSeq)) return;
		lastSeq = e.sequence;
		try { render(e); } catch (x) { console.error(x); }
		scroll();
	};
	/* Reconnect ourselves, from the last sequence seen (no duplicates). */
	es.onerror = () => {
		es.close(); es = null;
		if (g !== gen) return;
		conn('wait', 'reconnecting');
		const again = () => {
			if (g === gen) timer = setTimeout(connect, Math.min(250 * 2 ** retries++, 5000));
		};
		/* Down or restarting: try again; no token: start() reconnects. */
		api('GET', sp()).then(again, e => {
			if (g !== gen) return;
			if (!e.status || e.status >= 500) again();
			else if (e.status === 401) conn('bad', 'no token');
			else { conn('bad', 'gone'); add(h('div', { class: 'err' }, e.message)); refreshSoon(); }
		});
	};
}
scrollEl.onscroll = () => { follow = scrollEl.scrollHeight - scrollEl.scrollTop - scrollEl.clientHeight < 80; };
let scrolling = 0;
function scroll() {
	if (!follow || scrolling) return;
	scrolling = requestAnimationFrame(() => { scrolling = 0; scrollEl.scrollTop = scrollEl.scrollHeight; });
}

/* Rendering one event. */
function add(el) { logEl.append(el); return el; }
function render(e) {
	const d = e.data || {};
	switch (e.type) {
	case 'session.started': {
		const m = d.metadata || {};
		add(h('div', { class: 'note' }, 'session started \u00b7 ' + [m.agent, m.agentVersion, m.model,
		    m.permissionMode, m.cwd].filter(Boolean).join(' \u00b7 ')));
		break;
	}
	case 'session.ended': {
		turnOver();
		const st = d.stderr || {};
		add(h('div', { class: d.reason === 'error' ? 'err' : 'note' },
		    h('b', null, 'session ended: '), d.reason || '', d.terminated_by ? ' by ' + d.terminated_by : '',
		    d.exit_code != null ? ' (exit ' + d.exit_code + ')' : '', d.message ? ' \u2014 ' + d.message : '',
		    st.head || st.tail ? h('details', null, h('summary', null, 'stderr'),
		    h('pre', { class: 'box' }, (st.head || '') + (st.truncated ? '\n\u2026\n' : '') + (st.tail || ''))) : null));
		refreshSoon();
		break;
	}
	case 'turn.started':
		add(h('div', { class: 'turn' }, d.turn_id || 'turn'));
		refreshSoon();
		break;
	case 'turn.ended': {
		turnOver();
		const u = d.usage, bits = [d.stop_reason || 'ended'];
		if (u) bits.push((u.input_tokens || 0) + ' in / ' + (u.output_tokens || 0) + ' out tokens' +
		    (u.cache_read_tokens ? ' / ' + u.cache_read_tokens + ' cached' : ''));
		if (typeof d.cost_usd === 'number') bits.push('$' + d.cost_usd.toFixed(4));
		add(h('div', { class: 'turn end' + (d.stop_reason === 'error' ? ' bad' : '') }, bits.join(' \u00b7 ')));
		refreshSoon();
		break;
	}
	case 'item.started': case 'item.completed':
		if (d.item) item(d.item, e.type === 'item.completed');
		break;
	case 'item.delta':
		delta(d);
		break;
	case 'permission.requested': perm(d); refreshSoon(); break;
	case 'question.requested': question(d); refreshSoon(); break;
	case 'permission.resolved': case 'question.resolved': resolved(d); refreshSoon(); break;
	case 'error':
		add(h('div', { class: 'err' }, h('b', null, 'error'), d.code ? ' [' + d.code + ']' : '', ': ', d.message || '',
		    d.details ? h('details', null, h('summary', null, 'details'), h('pre', null, pretty(d.details))) : null));
		break;
	case 'agent.unparsed':
		add(h('div', { class: 'warn' }, 'unparsed agent output: ' + (d.error || '') +
		    (d.location ? ' (' + d.location + ')' : '')));
		break;
	default:
		add(h('div', { class: 'note' }, e.type));
	}
}

/* Items: messages, reasoning, tool calls and results, status. */
function textOf(content, type) {
	return (content || []).filter(p => p.type === type).map(p => p.text || '').join('');
}
function item(it, done) {
	let r = items.get(it.item_id);
	if (!r) {
		r = { kind: it.kind, text: '' };
		items.set(it.item_id, r);
		r.el = add(make(r, it));
	}
	update(r, it, done);
}
function make(r, it) {
	if (it.kind === 'reasoning') {
		r.sum = h('span');
		r.tx = h('div', { class: 'text' });
		return h('details', { class: 'reason' }, h('summary', null, h('i', null, 'thinking '), r.sum), r.tx);
	}
	if (it.kind === 'tool_call' || it.kind === 'tool_result') {
		r.tn = h('span', { class: 'tn' }); r.ta = h('span', { class: 'ta' });
		r.to = h('span', { class: 'to' }); r.ts = h('span', { class: 'ts' });
		r.args = h('div'); r.out = h('div'); r.files = h('div');
		const det = h('details', { class: 'tool' }, h('summary', null, r.tn, r.ta, r.to, r.ts),
		    h('div', { class: 'body' }, r.args, r.out));
		return h('div', { class: 'toolwrap' }, det, r.files);
	}
	if (it.kind === 'status' || it.kind === 'system') {
		r.tx = h('span'); r.parts = h('div');
		return h('div', { class: 'note' }, r.tx, r.parts);
	}
	const user = it.role === 'user';
	r.tx = h('div', { class: 'text' });
	r.parts = h('div');
	return h('div', { class: 'msg ' + (user ? 'user' : it.role === 'system' ? 'system' : 'assistant') },
	    h('div', { class: 'who' }, user ? 'you' : it.role || 'agent'), r.tx, r.parts);
}
function update(r, it, done) {
	const c = it.content || [], failed = it.status === 'failed';
	if (it.kind === 'tool_call' || it.kind === 'tool_result') return tool(r, it, done);
	const t = textOf(c, it.kind === 'reasoning' ? 'reasoning' : 'text') ||
	    (it.kind === 'reasoning' ? textOf(c, 'text') : '');
	if (t.length >= r.text.length) r.text = t;	/* deltas may be longer */
	if (it.kind === 'status' || it.kind === 'system') {
		const st = c.find(p => p.type === 'status');
		r.tx.textContent = st ? st.label + (st.detail ? ': ' + st.detail : '') : r.text;
	} else setText(r);
	if (r.parts) parts(r.parts, c.filter(p => p.type !== 'text' && p.type !== 'reasoning' && p.type !== 'status'));
	r.el.classList.toggle('live', !done && it.status === 'in_progress');
	if (failed) r.el.classList.add('bad');
}
function setText(r) {
	r.tx.textContent = r.text;
	if (r.sum) r.sum.textContent = oneLine(r.text, 120);
}
function delta(d) {
	let r = items.get(d.item_id);
	if (!r) {
		item({ item_id: d.item_id, kind: 'message', role: 'assistant', status: 'in_progress', content: [] }, false);
		r = items.get(d.item_id);
	}
	r.text += d.delta || '';
	if (r.tx && !r.tn) setText(r);
	else if (r.tn) { r.live = (r.live || '') + (d.delta || ''); r.out.replaceChildren(h('pre', { class: 'box' }, r.live)); }
}
function tool(r, it, done) {
	const c = it.content || [];
	const call = c.find(p => p.type === 'tool_call'), res = c.filter(p => p.type === 'tool_result');
	let target = r;
	if (it.kind === 'tool_result' && !call) {
		/* A result joins the row of its call, if we have it. */
		const cid = (res[0] || {}).call_id, owner = cid && calls.get(cid);
		if (owner && owner !== r) { target = owner; r.el.hidden = true; }
	}
	if (call) {
		if (call.call_id) calls.set(call.call_id, r);
		r.tn.textContent = call.name || 'tool';
		r.ta.textContent = oneLine(call.arguments || '', 90);
		r.args.replaceChildren(h('div', { class: 'lbl' }, 'input'), h('pre', { class: 'box' }, pretty(call.arguments || '')));
		r.callDone = done;
		r.callFailed = it.status === 'failed';
	} else if (!r.tn.textContent) {
		r.tn.textContent = 'result';
	}
	if (res.length) {
		const out = res.map(p => p.output || '').join('\n'), bad = res.some(p => p.is_error) || it.status === 'failed';
		target.out.replaceChildren(h('div', { class: 'lbl' }, 'output'),
		    h('pre', { class: 'box' + (bad ? ' bad' : '') }, out || '(no output)'));
		target.to.textContent = out ? '\u2192 ' + oneLine(out, 60) : '';
		target.resBad = bad;
		target.resDone = done;
		target.hasRes = true;
	}
	const rest = c.filter(p => p.type !== 'tool_call' && p.type !== 'tool_result');
	if (rest.length) parts(target.files, rest);
	toolStatus(target);
}
/* Running until the call and its result are done, or its turn ends. */
function toolStatus(r) {
	const bad = r.callFailed || r.resBad, fin = r.hasRes ? r.resDone : r.callDone && r.turnOver;
	r.ts.className = 'ts ' + (bad ? 'bad' : fin ? 'ok' : 'run');
	r.ts.textContent = bad ? '\u2717 failed' : fin ? '\u2713' : r.callDone ? '\u2026 waiting' : '\u2026 running';
}
function turnOver() {
	for (const r of new Set(calls.values())) if (!r.turnOver) { r.turnOver = true; toolStatus(r); }
}

/* Content parts other than the streamed text. */
function parts(el, ps) {
	el.replaceChildren(...ps.map(p => {
		switch (p.type) {
		case 'file_ref':
			return h('div', { class: 'file' }, h('div', { class: 'fp' }, (p.action || 'file') + ' ' + (p.path || '')),
			    p.diff ? diff(p.diff) : null);
		case 'image':
			return p.data ? h('img', { src: 'data:' + (p.mime || 'image/png') + ';base64,' + p.data, class: 'img' })
			    : h('div', { class: 'note' }, 'image ' + (p.path || ''));
		case 'json':
			return h('pre', { class: 'box' }, pretty(p.json));
		case 'tool_result':
			return h('pre', { class: 'box' + (p.is_error ? ' bad' : '') }, p.output || '');
		case 'tool_call':
			return h('div', { class: 'note' }, 'tool call ' + (p.name || '') + ' ' + oneLine(p.arguments || '', 90));
		default:
			return h('div', { class: 'note' }, p.type + ': ' + oneLine(p, 200));
		}
	}));
}
function diff(text) {
	return h('pre', { class: 'diff' }, text.replace(/\n$/, '').split('\n').map(l => h('span', {
	    class: /^(\+\+\+|---)( |$)/.test(l) ? 'm' : l[0] === '+' ? 'a' : l[0] === '-' ? 'd' : /^@@/.test(l) ? 'h' : null }, l || ' ')));
}

/* Permission and question requests, answered with buttons. */
function post(path, body, btns) {
	btns.forEach(b => { b.disabled = true; });
	return api('POST', sp() + path, body).catch(e => {
		toast(e.message);
		btns.forEach(b => { b.disabled = false; });
	});
}
function perm(d) {
	const m = d.metadata || {}, btns = [];
	const mk = (label, reply, cls) => {
		const b = h('button', { type: 'button', class: cls, 'data-reply': reply,
		    onclick: () => post('/permissions/' + enc(d.permission_id) + '/reply', { reply }, btns) }, label);
		btns.push(b);
		return b;
	};
	const card = add(h('div', { class: 'card perm', 'data-id': d.permission_id },
	    h('div', { class: 'ct' }, 'Permission: ' + (d.action || m.tool_name || 'tool')),
	    m.input != null ? h('pre', { class: 'box' }, pretty(m.input)) : null,
	    h('div', { class: 'btns' }, mk('Allow once', 'once', 'pri'), mk('Always allow', 'always'),
	    mk('Reject', 'reject', 'danger'))));
	cards.set(d.permission_id, card);
}
function question(d) {
	const qs = d.questions || [], sel = qs.map(() => new Set()), btns = [];
	const send = () => post('/questions/' + enc(d.question_id) + '/reply',
	    { answers: sel.map(s => [...s]) }, btns);
	const submit = h('button', { type: 'button', class: 'pri', disabled: true, onclick: send }, 'Submit');
	const quick = qs.length === 1 && !qs[0].multi_select;
	const blocks = qs.map((q, i) => h('div', { class: 'q' },
	    h('div', null, q.header ? h('b', null, q.header + ': ') : null, q.question || ''),
	    h('div', { class: 'btns' }, (q.options || []).map(o => {
		const b = h('button', { type: 'button', class: 'opt', title: o.description || null,
		    onclick: () => {
			if (!q.multi_select) {
				sel[i].clear();
				b.parentNode.querySelectorAll('.opt').forEach(x => x.classList.remove('sel'));
			}
			if (sel[i].has(o.label)) sel[i].delete(o.label); else sel[i].add(o.label);
			b.classList.toggle('sel', sel[i].has(o.label));
			submit.disabled = sel.some(s => !s.size);
			if (quick) send();
		} }, o.label);
		btns.push(b);
		return b;
	    })),
	    q.multi_select ? h('div', { class: 'note' }, 'choose any') : null));
	const rej = h('button', { type: 'button', class: 'danger',
	    onclick: () => post('/questions/' + enc(d.question_id) + '/reject', undefined, btns) }, 'Reject');
	btns.push(submit, rej);
	const card = add(h('div', { class: 'card question', 'data-id': d.question_id },
	    h('div', { class: 'ct' }, 'Question'), blocks,
	    h('div', { class: 'btns' }, quick ? null : submit, rej)));
	cards.set(d.question_id, card);
}
function resolved(d) {
	const id = d.permission_id || d.question_id, card = cards.get(id);
	const words = { accept: 'Allowed once', accept_for_session: 'Always allowed', reject: 'Rejected',
	    cancelled: 'Cancelled', answered: 'Answered', rejected: 'Rejected' };
	let s = words[d.status] || d.status;
	if (d.answers) s += ': ' + d.answers.map(a => a.join(', ')).join('; ');
	const line = h('div', { class: 'cs ' + (/^(accept|answered)/.test(d.status) ? 'ok' : 'bad') }, s);
	if (!card) { add(h('div', { class: 'note' }, (d.action || id) + ': ' + s)); return; }
	card.classList.add('done');
	card.querySelectorAll('.btns').forEach(b => b.remove());
	card.append(line);
}

/* Composer and the session's buttons. */
$('#composer').onsubmit = async ev => {
	ev.preventDefault();
	const ta = $('#msg'), text = ta.value;
	if (!cur || !text.trim()) return;
	ta.value = '';
	try { await api('POST', sp() + '/messages', { message: text }); refreshSoon(); }
	catch (e) { ta.value = text; toast('send: ' + e.message); }
};
$('#msg').onkeydown = e => {
	if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); $('#composer').requestSubmit(); }
};
$('#cancel').onclick = () => api('POST', sp() + '/cancel').then(refreshSoon, e => toast('cancel: ' + e.message));
$('#terminate').onclick = () => api('POST', sp() + '/terminate').then(refreshSoon, e => toast('terminate: ' + e.message));
$('#delete').onclick = () => {
	if (!confirm('Delete session ' + cur + ' and its event log?')) return;
	api('DELETE', sp()).then(() => { select(null); refresh(); }, e => toast('delete: ' + e.message));
};

/* Views: Sessions (#app), Files and Terminal, one shown at a time. */
let view = 'app';
function show(v) {
	view = v;
	for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('sel', b.dataset.view === v);
	for (const id of ['app', 'files', 'term']) $('#' + id).hidden = id !== v;
	if (v === 'files' && fsDir === null) browse($('#fspath').value.trim() || '.');
	if (v === 'term') termShow();
}
for (const b of document.querySelectorAll('#tabs button')) b.onclick = () => show(b.dataset.view);

/*
 * Files: a folder of /v1/fs/entries at a time. Uploads are PUT as the
 * file's raw bytes; a download fetches with the token (a plain link could
 * not send it) and saves the Blob through a temporary link.
 */
let fsDir = null, fsGen = 0;
const fsq = p => 'v1/fs/' + p;
function size(n) {
	if (n < 1024) return n + ' B';
	const u = ['KiB', 'MiB', 'GiB', 'TiB'];
	let i = -1;
	do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
	return n.toFixed(n < 10 ? 1 : 0) + ' ' + u[i];
}
function under(dir, name) { return dir.replace(/\/+$/, '') + '/' + name; }
async function browse(path) {
	let list, dir;
	const g = ++fsGen, typed = $('#fspath').value;
	try {
		/* The folder's own absolute path: "." (HOME) and relative ones resolved. */
		dir = (await api('GET', fsq('stat?path=' + enc(path)))).path;
		list = await api('GET', fsq('entries?path=' + enc(dir)));
	} catch (e) { if (g === fsGen) toast('files: ' + e.message); return; }
	/* Only the folder asked for last is shown, whichever answer comes last. */
	if (g !== fsGen) return;
	fsDir = dir;
	/* Not over a path typed meanwhile: its Enter is still to come. */
	if ($('#fspath').value === typed) $('#fspath').value = dir;
	$('#fsup').disabled = dir === '/';
	$('#fslist tbody').replaceChildren(...list.map(e => {
		const isDir = e.entryType === 'directory';
		return h('tr', { 'data-name': e.name, class: isDir ? 'dir' : 'file' },
		    h('td', null, isDir ? h('a', { href: '#', onclick: ev => { ev.preventDefault(); browse(e.path); } }, e.name + '/')
		    : e.name, e.symlink ? h('span', { class: 'dim' }, ' \u2192') : null),
		    h('td', { class: 'dim' }, isDir ? '' : size(e.size)),
		    h('td', { class: 'dim' }, (e.modified || '').replace('T', ' ').replace(/\.\d+Z$/, 'Z')),
		    h('td', null, isDir ? null : h('button', { type: 'button', class: 'dl', onclick: () => download(e) }, 'Download')));
	}));
	if (!list.length) $('#fslist tbody').append(h('tr', null, h('td', { class: 'dim', colspan: 4 }, 'empty')));
}
async function download(e) {
	try {
		const blob = await (await call('GET', fsq('file?path=' + enc(e.path)))).blob();
		const a = h('a', { href: URL.createObjectURL(blob), download: e.name });
		document.body.append(a);
		a.click();
		a.remove();
		setTimeout(() => URL.revokeObjectURL(a.href), 60000);
	} catch (x) { toast('download: ' + x.message); }
}
$('#fsbar').onsubmit = ev => { ev.preventDefault(); browse($('#fspath').value.trim() || '.'); };
$('#fsup').onclick = () => { if (fsDir) browse(fsDir.replace(/\/[^/]*\/?$/, '') || '/'); };
$('#fsfile').onchange = async ev => {
	const files = [...ev.target.files], dir = fsDir;
	ev.target.value = '';
	if (dir === null) return;
	for (const f of files) {
		try { await call('PUT', fsq('file?path=' + enc(under(dir, f.name))), f, 'application/octet-stream'); }
		catch (x) { toast('upload ' + f.name + ': ' + x.message); }
	}
	browse(dir);
};

/*
 * agentd's Content-Security-Policy (style-src 'self', set by
 * libwebsockets) refuses inline style, and xterm.js's DOM renderer uses
 * it twice: it puts <style> elements in the page (the policy refuses even
 * an empty one) and writes its computed CSS into them (cell size, theme
 * colours), and it writes true colours into style="" attributes. Rather
 * than loosen the policy for the whole page, both go through the CSSOM,
 * which the policy does not govern: a <style> element stays out of the
 * document and its text becomes a constructed sheet the document adopts
 * (dropped when xterm removes the element); a style attribute becomes
 * element.style.cssText. The CSS is the same; only xterm does either on
 * this page, and nothing is installed until it is loaded.
 */
const sheets = new WeakMap();
function cssomShim() {
	const sheet = el => {
		let s = sheets.get(el);
		if (!s) {
			s = { sheet: new CSSStyleSheet(), text: '' };
			sheets.set(el, s);
			document.adoptedStyleSheets = [...document.adoptedStyleSheets, s.sheet];
		}
		return s;
	};
	Object.defineProperty(HTMLStyleElement.prototype, 'textContent', {
		configurable: true,
		get() { return sheet(this).text; },
		set(v) { const s = sheet(this); s.text = String(v); s.sheet.replaceSync(s.text); },
	});
	HTMLStyleElement.prototype.remove = function () {
		const s = sheets.get(this);
		if (s) document.adoptedStyleSheets = document.adoptedStyleSheets.filter(x => x !== s.sheet);
		sheets.delete(this);
	};
	const append = Node.prototype.appendChild;
	Node.prototype.appendChild = function (el) {
		if (el instanceof HTMLStyleElement) { sheet(el); return el; }
		return append.call(this, el);
	};
	const set = Element.prototype.setAttribute;
	Element.prototype.setAttribute = function (name, value) {
		if (String(name).toLowerCase() === 'style') this.style.cssText = value;
		else set.call(this, name, value);
	};
}

/*
 * Terminal: bash on a pseudo-terminal (POST /v1/processes, tty: true),
 * shown by xterm.js over /v1/processes/{id}/terminal/ws. Output comes as
 * binary frames, written to xterm as they are; keys go as input frames;
 * the fit addon sizes the terminal to its box and each new size is sent
 * as a resize frame, so the shell's stty size follows the page.
 */
let xterm = null, termLoad = null, term = null, fit = null, tws = null, tproc = null;
function termLoadLib() {
	if (!termLoad) {
		cssomShim();
		document.head.append(h('link', { rel: 'stylesheet', href: 'xterm.css' }));
		termLoad = Promise.all([import('./xterm.mjs'), import('./addon-fit.mjs')])
		    .then(([x, f]) => { xterm = { Terminal: x.Terminal, FitAddon: f.FitAddon }; });
	}
	return termLoad;
}
function tstate(s) { $('#tstate').textContent = s; }
async function termShow() {
	if (term) { termFit(); term.focus(); return; }
	try { await termLoadLib(); } catch (e) { toast('terminal: ' + e.message); return; }
	if (term) return;
	term = new xterm.Terminal({ fontFamily: getComputedStyle(document.body).getPropertyValue('--mono'),
	    fontSize: 13, scrollback: 5000 });
	fit = new xterm.FitAddon();
	term.loadAddon(fit);
	term.open($('#tbox'));
	term.onData(d => termSend({ type: 'input', data: d }));
	term.onResize(({ cols, rows }) => { termSize(); termSend({ type: 'resize', cols, rows }); });
	new ResizeObserver(() => termFit()).observe($('#tbox'));
	termFit();
	termSize();
	termStart();
}
function termFit() { if (fit && view === 'term') try { fit.fit(); } catch (e) {} }
function termSize() { $('#tsize').textContent = term.cols + '\u00d7' + term.rows; }
function termSend(m) { if (tws && tws.readyState === WebSocket.OPEN) tws.send(JSON.stringify(m)); }
async function termStart() {
	if (tws) { tws.onclose = null; tws.close(); tws = null; }
	$('#tnew').disabled = true;
	tstate('starting');
	try {
		tproc = await api('POST', 'v1/processes', { command: 'bash', args: ['-i'], tty: true });
	} catch (e) { tstate('not started'); $('#tnew').disabled = false; toast('terminal: ' + e.message); return; }
	const u = new URL(ROOT + 'v1/processes/' + enc(tproc.id) + '/terminal/ws', location.href);
	u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
	if (token) u.searchParams.set('access_token', token);
	const ws = tws = new WebSocket(u);
	ws.binaryType = 'arraybuffer';
	ws.onopen = () => {
		/* The pty starts at 80x24: give it this terminal's size first. */
		termSend({ type: 'resize', cols: term.cols, rows: term.rows });
		tstate('bash \u00b7 process ' + tproc.id);
		term.focus();
	};
	ws.onmessage = m => {
		if (typeof m.data !== 'string') { term.write(new Uint8Array(m.data)); return; }
		let f;
		try { f = JSON.parse(m.data); } catch (e) { return; }
		if (f.type === 'exit') {
			tstate('exited' + (f.exitCode != null ? ' (' + f.exitCode + ')' : ''));
			term.write('\r\n[process exited]\r\n');
		} else if (f.type === 'error') toast('terminal: ' + f.message);
	};
	ws.onclose = () => {
		if (tws !== ws) return;
		tws = null;
		$('#tnew').disabled = false;
		if (!/^exited/.test($('#tstate').textContent)) tstate('disconnected');
	};
}
/* A process outlives its sockets: the page stops the shells it started. */
function termStop(keepalive) {
	if (!tproc) return;
	const hd = token ? { Authorization: 'Bearer ' + token } : {};
	fetch(ROOT + 'v1/processes/' + enc(tproc.id) + '/stop?waitMs=0', { method: 'POST', headers: hd, keepalive })
	    .catch(() => {});
	tproc = null;
}
$('#tnew').onclick = () => {
	if (!term) return;
	termStop(false);
	term.reset();
	termStart();
};
addEventListener('pagehide', () => termStop(true));

async function start() {
	await loadAgents();
	await refresh();
	const want = decodeURIComponent(location.hash.slice(1));
	if (cur) select(cur);
	else if (want && sessions.some(s => s.sessionId === want)) select(want);
}
setInterval(() => { if (!document.hidden) refresh(); }, 3000);
start();
