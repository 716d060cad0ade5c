/*
 * agentd inspector: sessions, the live event view, the composer, and the
 * buttons that answer permissions and questions (see index.html).
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

async function api(method, path, body) {
	const hd = {};
	if (token) hd.Authorization = 'Bearer ' + token;
	if (body !== undefined) hd['Content-Type'] = 'application/json';
	const r = await fetch(ROOT + path, { method, headers: hd,
	    body: body === undefined ? undefined : JSON.stringify(body) });
	if (!r.ok) {
		let d = r.status + ' ' + r.statusText;
		if (r.status === 401) {
			askToken(token ? 'The token was refused; enter the right one.' : undefined);
			d = 'the access token is missing or wrong';
		} else try { d = (await r.json()).detail || d; } catch (e) {}
		throw Object.assign(new Error(d), { status: r.status });
	}
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

async function start() {
	await loadAgents();
	await refresh();
	const want = decodeURIComponent(location.hash.slice(1));
	if (cur) select(cur);
	else if (want && sessions.some(s => s.sessionId === want)) select(want);
}
setInterval(() => { if (!document.hidden) refresh(); }, 3000);
start();
