// clients/typescript: every method of dist/index.js against a real agentd
// with the built-in mock agent, over SSE and (where node has WebSocket)
// over WebSocket, including a kill and restart of agentd mid-stream.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { AgentdClient, AgentdError, Session } from "../dist/index.js";
import { Agentd, TOKEN, sleep } from "./agentd.mjs";

let agentd, client;
const TRANSPORTS = typeof WebSocket === "function" ? ["sse", "ws"] : ["sse"];
const T = { timeout: 30000 };

before(async () => {
	agentd = await Agentd.start();
	client = new AgentdClient({ baseUrl: agentd.base, token: TOKEN });
});
after(async () => { await agentd?.stop(); });

let nsessions = 0;
async function session(prefix) {
	const id = `${prefix}-${++nsessions}`;
	const info = await client.createSession(id, { agent: "mock" });
	assert.equal(info.sessionId, id);
	assert.equal(info.healthy, true);
	return id;
}

// Iterate events until pred(ev) is true, calling on(ev) for each; returns
// every event seen. Checks that sequences are consecutive.
async function follow(id, opts, pred, on = async () => {}) {
	const seen = [];
	for await (const ev of client.events(id, opts)) {
		if (seen.length > 0)
			assert.equal(ev.sequence, seen.at(-1).sequence + 1,
			    "a gap or a repeat in the sequence");
		seen.push(ev);
		await on(ev);
		if (pred(ev))
			break;
	}
	return seen;
}

const text = (evs) => evs.filter((e) => e.type === "item.delta")
    .map((e) => e.data.delta).join("");

test("health, agents, sessions", T, async () => {
	assert.equal((await client.health()).status, "ok");
	const agents = await client.listAgents();
	assert.ok(agents.some((a) => a.id === "mock"));
	assert.equal((await client.getAgent("mock")).installed, true);
	const id = await session("list");
	assert.ok((await client.listSessions()).some((s) => s.sessionId === id));
	assert.equal((await client.getSession(id)).agent, "mock");
	await client.deleteSession(id);
	await assert.rejects(client.getSession(id), (e) => e instanceof
	    AgentdError && e.status === 404 &&
	    e.problem.type === "urn:agentd:error:session_not_found");
});

test("errors are AgentdError with the problem", T, async () => {
	const id = await session("errors");
	await assert.rejects(client.createSession(id, { agent: "mock" }),
	    (e) => e.status === 409 && e.problem.status === 409);
	await assert.rejects(client.replyPermission(id, "perm_9", "once"),
	    (e) => e.status === 404);
	await assert.rejects(client.cancel(id), (e) => e.status === 409);
	const bad = new AgentdClient({ baseUrl: agentd.base, token: "wrong" });
	await assert.rejects(bad.listSessions(), (e) => e.status === 401);
	for (const transport of TRANSPORTS) {
		await assert.rejects(async () => {
			for await (const _ of client.events("no-such", { transport }))
				;
		}, (e) => e instanceof AgentdError && e.status === 404, transport);
		await assert.rejects(async () => {
			for await (const _ of bad.events(id, { transport }))
				;
		}, (e) => e instanceof AgentdError && e.status === 401, transport);
	}
});

for (const transport of TRANSPORTS) {
	test(`${transport}: postMessage and events`, T, async () => {
		const id = await session(`msg-${transport}`);
		await client.postMessage(id, "hello there");
		const evs = await follow(id, { transport },
		    (e) => e.type === "turn.ended");
		assert.equal(evs[0].sequence, 1);
		assert.equal(evs[0].type, "session.started");
		assert.match(text(evs), /echo: hello there/);
		assert.equal(evs.at(-1).data.stop_reason, "end_turn");
		// From an offset, with raw.
		const tail = await follow(id, { transport, offset: 3,
		    includeRaw: true }, (e) => e.type === "turn.ended");
		assert.equal(tail[0].sequence, 4);
		assert.ok(tail.some((e) => e.raw !== undefined));
		const page = await client.getEvents(id, { offset: 1, limit: 2 });
		assert.deepEqual(page.events.map((e) => e.sequence), [2, 3]);
		assert.equal(page.hasMore, true);
	});

	test(`${transport}: replyPermission`, T, async () => {
		const id = await session(`perm-${transport}`);
		await client.postMessage(id, "permission please");
		const evs = await follow(id, { transport },
		    (e) => e.type === "turn.ended", async (e) => {
			if (e.type === "permission.requested")
				await client.replyPermission(id,
				    e.data.permission_id, "always");
		});
		const res = evs.find((e) => e.type === "permission.resolved");
		assert.equal(res.data.status, "accept_for_session");
	});

	test(`${transport}: replyQuestion and rejectQuestion`, T, async () => {
		const id = await session(`q-${transport}`);
		await client.postMessage(id, "question one");
		let evs = await follow(id, { transport },
		    (e) => e.type === "turn.ended", async (e) => {
			if (e.type === "question.requested")
				await client.replyQuestion(id, e.data.question_id,
				    [[e.data.questions[0].options[0].label]]);
		});
		let res = evs.find((e) => e.type === "question.resolved");
		assert.equal(res.data.status, "answered");
		assert.deepEqual(res.data.answers, [["Red"]]);
		const offset = evs.at(-1).sequence;
		await client.postMessage(id, "question two");
		evs = await follow(id, { transport, offset },
		    (e) => e.type === "turn.ended", async (e) => {
			if (e.type === "question.requested")
				await client.rejectQuestion(id, e.data.question_id);
		});
		res = evs.find((e) => e.type === "question.resolved");
		assert.equal(res.data.status, "rejected");
	});

	test(`${transport}: cancel`, T, async () => {
		const id = await session(`cancel-${transport}`);
		await client.postMessage(id, "slow");
		let cancelled = false;
		const evs = await follow(id, { transport },
		    (e) => e.type === "turn.ended", async (e) => {
			if (e.type === "item.delta" && !cancelled) {
				cancelled = true;
				await client.cancel(id);
			}
		});
		assert.equal(evs.at(-1).data.stop_reason, "cancelled");
		assert.equal((await client.getSession(id)).ended, false);
	});

	test(`${transport}: terminate ends the iteration`, T, async () => {
		const id = await session(`term-${transport}`);
		await client.postMessage(id, "hi");
		let terminated = false;
		const evs = await follow(id, { transport }, () => false,
		    async (e) => {
			if (e.type === "turn.ended" && !terminated) {
				terminated = true;
				await client.terminate(id);
			}
		});
		const end = evs.at(-1);
		assert.equal(end.type, "session.ended");
		assert.equal(end.data.reason, "terminated");
		assert.equal((await client.getSession(id)).ended, true);
	});

	test(`${transport}: an agent that crashes`, T, async () => {
		const id = await session(`crash-${transport}`);
		await client.postMessage(id, "crash now");
		const evs = await follow(id, { transport }, () => false);
		const end = evs.at(-1);
		assert.equal(end.type, "session.ended");
		assert.equal(end.data.exit_code, 3);
		assert.ok(evs.some((e) => e.type === "error" &&
		    e.data.code === "agent_exited"));
		await assert.rejects(client.postMessage(id, "more"),
		    (e) => e.status === 409);
	});

	test(`${transport}: events resume after agentd is killed and restarted`,
	    T, async () => {
		const id = await session(`resume-${transport}`);
		await client.postMessage(id, "slow");
		const reconnects = [];
		let killed = false, deltas = 0;
		const evs = await follow(id, { transport, reconnectDelayMs: 50,
		    onReconnect: (offset) => reconnects.push(offset) },
		    (e) => e.type === "turn.ended", async (e) => {
			if (e.type === "item.delta" && ++deltas === 100 && !killed) {
				killed = true;
				await agentd.kill();
				setTimeout(() => agentd.up(), 300);
			}
		});
		assert.ok(killed);
		assert.ok(reconnects.length >= 1, "no reconnect");
		// follow() checked consecutive sequences; the log agrees.
		assert.deepEqual(evs.map((e) => e.sequence),
		    evs.map((_, i) => i + 1));
		const page = await client.getEvents(id, { limit: 10000 });
		assert.deepEqual(page.events.slice(0, evs.length).map((e) => e.event_id),
		    evs.map((e) => e.event_id));
		assert.equal(evs.at(-1).data.stop_reason, "interrupted");
		// The session goes on with a new agent process.
		await client.postMessage(id, "after the restart");
		const more = await follow(id, { transport,
		    offset: evs.at(-1).sequence }, (e) => e.type === "turn.ended");
		assert.equal(more[0].sequence, evs.at(-1).sequence + 1);
		assert.match(text(more), /echo: after the restart/);
	});
}

test("events() stops when its signal aborts", T, async () => {
	const id = await session("abort");
	const ac = new AbortController();
	const seen = [];
	setTimeout(() => ac.abort(), 300);
	for await (const ev of client.events(id, { signal: ac.signal }))
		seen.push(ev);
	assert.equal(seen[0].type, "session.started");
});

/* -- the surface shared with the Python client ------------------------- */

test("connect, startSession and the session handle", T, async () => {
	const c = await AgentdClient.connect(agentd.base, TOKEN);
	await assert.rejects(AgentdClient.connect(agentd.base, "wrong"),
	    (e) => e instanceof AgentdError && e.status === 401);
	const s = await c.startSession({ agent: "mock", id: "handle-1",
	    cwd: "/tmp", model: "m1", env: { A_KEY: "secret" }, mcp: [] });
	assert.ok(s instanceof Session);
	assert.equal(s.id, "handle-1");
	assert.equal(s.info.healthy, true);
	assert.deepEqual(s.info.envKeys, ["A_KEY"]);
	assert.equal(s.info.directory, "/tmp");
	assert.equal(s.info.model, "m1");
	const auto = await c.startSession({ agent: "acp",
	    agentCommand: ["@self", "mock-agent"] });
	assert.match(auto.id, /^s-[0-9a-f]{16}$/);
	const r = await auto.run("hello handle");
	assert.equal(r.text, "echo: hello handle");
	assert.equal(r.ok, true);
	assert.equal((await c.session(auto.id).refresh()).agent, "acp");
	await s.delete();
	await auto.delete();
	await assert.rejects(s.refresh(), (e) => e.status === 404 &&
	    e.code === "session_not_found" && e.detail === "no session 'handle-1'");
});

for (const transport of TRANSPORTS) {
	test(`${transport}: run() with permission and question round trips`, T,
	    async () => {
		const s = await client.startSession({ agent: "mock" });
		const asked = [];
		let r = await s.run("permission please", { transport,
		    onPermission: async (ev) => {
			asked.push(ev.data.permission_id);
			assert.equal(ev.data.metadata.input.path, "mock.txt");
			return "always";
		    } });
		assert.equal(asked.length, 1);
		assert.equal(r.events[0].type, "turn.started");
		assert.equal(r.events.at(-1).type, "turn.ended");
		assert.equal(r.events.find((e) => e.type ===
		    "permission.resolved").data.status, "accept_for_session");
		assert.equal(r.text, "permission granted");
		assert.equal(r.stopReason, "end_turn");
		assert.ok(r.usage && r.costUsd > 0);
		r = await s.run("permission again", { transport,
		    onPermission: () => false });
		assert.equal(r.text, "permission denied");
		const seen = [];
		r = await s.run("a question", { transport,
		    onEvent: (e) => seen.push(e.type),
		    onQuestion: (ev) => {
			assert.deepEqual(ev.data.questions[0].options.map((o) =>
			    o.label), ["Red", "Blue"]);
			return [["Blue"]];
		    } });
		assert.equal(r.text, "you chose Blue");
		assert.deepEqual(seen, r.events.map((e) => e.type));
		const res = r.events.find((e) => e.type === "question.resolved");
		assert.deepEqual(res.data.answers, [["Blue"]]);
		r = await s.run("another question", { transport,
		    onQuestion: () => null });
		assert.equal(r.text, "question declined");
		const log = (await s.eventsSince(0)).events;
		assert.deepEqual(log.map((e) => e.sequence),
		    log.map((_, i) => i + 1));
		assert.equal(log.filter((e) => e.type === "turn.ended").length, 4);
		await s.delete();
	});
}

test("stream() skips the turns queued before its message", T, async () => {
	const s = await client.startSession({ agent: "mock" });
	await s.send("tool first");
	await s.send("hello first");
	const got = [];
	for await (const ev of s.stream("hello second"))
		got.push(ev);
	assert.equal(got.filter((e) => e.type === "turn.started").length, 1);
	assert.equal(got.at(-1).type, "turn.ended");
	assert.match(text(got), /echo: hello second$/);
	assert.doesNotMatch(text(got), /first/);
	await s.delete();
});

test("eventsSince(): a cursor, page by page", T, async () => {
	const s = await client.startSession({ agent: "mock" });
	const r = await s.run("hello cursor world");
	const last = r.events.at(-1).sequence;
	let cursor = 0;
	const got = [];
	for (;;) {
		const b = await s.eventsSince(cursor, { limit: 3 });
		assert.ok(b.events.length <= 3);
		got.push(...b.events);
		cursor = b.cursor;
		if (!b.hasMore)
			break;
	}
	assert.deepEqual(got.map((e) => e.sequence), got.map((_, i) => i + 1));
	assert.equal(cursor, last);
	assert.deepEqual(await s.eventsSince(cursor),
	    { events: [], cursor, hasMore: false });
	const b = await client.eventsSince(s.id, 2);
	assert.equal(b.events[0].sequence, 3);
	assert.equal(b.cursor, last);
	await s.delete();
});

test("each 4xx is an AgentdError with the problem's members", T, async () => {
	const small = await Agentd.start(["--max-body", "4096"]);
	try {
		const c = new AgentdClient({ baseUrl: small.base, token: TOKEN });
		const sid = (await c.startSession({ agent: "mock" })).id;
		const bad = new AgentdClient({ baseUrl: small.base, token: "x" });
		const foreign = new AgentdClient({ baseUrl: small.base,
		    token: TOKEN, headers: { Origin: "http://evil.test" } });
		// (421, a foreign Host, needs a fetch that can set Host.)
		const cases = [
			[() => c.getEvents(sid, { offset: 1e6 }), 400,
			    "invalid_request", /past the last event/],
			[() => c.replyPermission(sid, "perm_1", "maybe"), 400,
			    "invalid_request", /'reply' must be one of/],
			[() => c.replyQuestion(sid, "q_1", [[1]]), 400,
			    "invalid_request", /answers/],
			[() => c.createSession("bad id!", { agent: "mock" }), 400,
			    "invalid_request", /session id/],
			[() => c.startSession({ agent: "no-such-agent" }), 400,
			    "invalid_request", /unknown agent 'no-such-agent'/],
			[() => bad.listSessions(), 401, "unauthorized", /token/],
			[() => foreign.listSessions(), 403, "origin_refused",
			    /Origin/],
			[() => c.getSession("no-such"), 404, "session_not_found",
			    /^no session 'no-such'$/],
			[() => c.replyPermission(sid, "perm_9", "once"), 404,
			    "not_found", /perm_9/],
			[() => c.createSession(sid, { agent: "mock" }), 409,
			    "conflict", new RegExp(sid)],
			[() => c.cancel(sid), 409, "conflict", /turn/],
			[() => c.postMessage(sid, "x".repeat(8192)), 413,
			    "payload_too_large", /--max-body/],
			[() => c.getSession("x".repeat(600)), 414, "uri_too_long",
			    /./],
		];
		for (const [call, status, code, detail] of cases) {
			await assert.rejects(call, (e) => {
				assert.ok(e instanceof AgentdError, String(e));
				assert.equal(e.status, status, e.message);
				assert.equal(e.problem.status, status);
				assert.equal(e.type, `urn:agentd:error:${code}`);
				assert.equal(e.code, code);
				assert.match(e.detail, detail);
				assert.ok(e.title && e.message.includes(e.detail));
				return true;
			});
		}
	} finally {
		await small.stop();
	}
});

// A stand-in server: records requests, answers what `answers` holds.
async function recorder(answers) {
	const requests = [];
	const srv = createServer((req, res) => {
		let body = "";
		req.on("data", (d) => { body += d; });
		req.on("end", () => {
			requests.push({ method: req.method, url: req.url,
			    headers: req.headers, body });
			const a = answers.shift() ?? { status: 204 };
			res.writeHead(a.status, a.headers ?? {});
			res.end(a.body ?? "");
		});
	});
	await new Promise((r) => srv.listen(0, "127.0.0.1", r));
	return { requests, url: `http://127.0.0.1:${srv.address().port}`,
	    close: () => new Promise((r) => srv.close(r)) };
}

test("postMessage sends interrupt and attachments, and surfaces the answer",
    T, async () => {
	const problem = JSON.stringify({ type: "urn:agentd:error:invalid_request",
	    title: "Bad Request", status: 400,
	    detail: "'interrupt' is not supported" });
	const rec = await recorder([{ status: 204 }, { status: 204 },
	    { status: 204 }, { status: 400, body: problem,
	    headers: { "Content-Type": "application/problem+json" } }]);
	try {
		const c = new AgentdClient({ baseUrl: rec.url + "/prefix/",
		    token: "T" });
		const attachments = [{ path: "/tmp/a.png", mime: "image/png" }];
		await c.postMessage("s/1", "now", { interrupt: true, attachments });
		await c.session("s/1").send("now", { interrupt: true,
		    attachments });
		await c.send("s/1", "plain");
		for (const r of rec.requests) {
			assert.equal(r.method, "POST");
			assert.equal(r.url, "/prefix/v1/sessions/s%2F1/messages");
			assert.equal(r.headers["content-type"], "application/json");
			assert.equal(r.headers.authorization, "Bearer T");
		}
		const bodies = rec.requests.map((r) => JSON.parse(r.body));
		assert.deepEqual(bodies[0], { message: "now", interrupt: true,
		    attachments });
		assert.deepEqual(bodies[1], bodies[0]);
		assert.deepEqual(bodies[2], { message: "plain" });
		await assert.rejects(c.postMessage("s", "x", { interrupt: true }),
		    (e) => e.status === 400 && e.code === "invalid_request" &&
		    e.detail === "'interrupt' is not supported");
	} finally {
		await rec.close();
	}
});

test("a 5xx that is not a problem, and events() retrying a 502", T,
    async () => {
	const html = { status: 502, body: "<h1>Bad Gateway</h1>",
	    headers: { "Content-Type": "text/html" } };
	const ev = (seq, type, data) => `id: ${seq}\ndata: ` + JSON.stringify({
	    event_id: `evt_${seq}`, sequence: seq, time: "", session_id: "p",
	    source: "daemon", synthetic: true, type, data }) + "\n\n";
	const rec = await recorder([html, html, html, { status: 200,
	    headers: { "Content-Type": "text/event-stream" },
	    body: ev(1, "turn.started", { turn_id: "t" }) +
	    ev(2, "session.ended", { reason: "terminated",
	    terminated_by: "daemon" }) }]);
	try {
		const c = new AgentdClient({ baseUrl: rec.url });
		await assert.rejects(c.health(), (e) => e instanceof AgentdError &&
		    e.status === 502 && e.problem === undefined &&
		    e.detail === "<h1>Bad Gateway</h1>");
		const retries = [];
		const got = [];
		for await (const e of c.events("p", { transport: "sse",
		    reconnectDelayMs: 10, onReconnect: (at) => retries.push(at) }))
			got.push(e.sequence);
		assert.deepEqual(got, [1, 2]);
		assert.deepEqual(retries, [0, 0]);
		assert.equal(rec.requests.length, 4);
	} finally {
		await rec.close();
	}
});

// The turns of a session as [user message, stop_reason], read until
// `count` turns ended or `ms` passed.
async function turns(s, count, ms) {
	const ac = new AbortController();
	const timer = setTimeout(() => ac.abort(), ms);
	const out = [];
	let user;
	try {
		for await (const ev of s.events({ signal: ac.signal })) {
			if (ev.type === "turn.started")
				user = undefined;
			else if (ev.type === "item.completed" &&
			    ev.data.item.role === "user")
				user = ev.data.item.content.map((p) => p.text).join("");
			else if (ev.type === "turn.ended" &&
			    out.push([user, ev.data.stop_reason]) === count)
				break;
		}
	} finally {
		clearTimeout(timer);
	}
	return out;
}

// Waits for the first delta of the slow turn: it is running.
async function slowRunning(s) {
	await s.send("slow");
	for await (const ev of s.events())
		if (ev.type === "item.delta")
			return;
}

test("interrupt-and-send cancels the running turn, runs the new one next",
    T, async () => {
	const s = await client.startSession({ agent: "mock" });
	try {
		await slowRunning(s);
		await s.send("interrupting", { interrupt: true });
		// A cancel takes the mock milliseconds; the slow turn alone
		// runs for seconds.
		assert.deepEqual(await turns(s, 2, 2000),
		    [["slow", "cancelled"], ["interrupting", "end_turn"]]);
		// Without a running turn the flag changes nothing.
		const r = await s.run("after", { interrupt: true });
		assert.equal(r.stopReason, "end_turn");
		assert.equal(r.text, "echo: after");
	} finally {
		await s.delete();
	}
});

test("interrupt-and-send with three messages queued loses and reorders " +
    "nothing", T, async () => {
	const s = await client.startSession({ agent: "mock" });
	try {
		await slowRunning(s);
		for (const m of ["q1", "q2", "q3"])
			await s.send(m);
		assert.equal((await s.refresh()).queuedMessages, 3);
		await s.send("now", { interrupt: true });
		assert.deepEqual(await turns(s, 5, 10000), [["slow", "cancelled"],
		    ["now", "end_turn"], ["q1", "end_turn"], ["q2", "end_turn"],
		    ["q3", "end_turn"]]);
		const texts = (await s.eventsSince(0)).events.filter((e) =>
		    e.type === "item.completed" &&
		    e.data.item.kind === "message" &&
		    e.data.item.role === "assistant")
		    .map((e) => e.data.item.content.map((p) => p.text).join(""));
		assert.deepEqual(texts.slice(-4), ["echo: now", "echo: q1",
		    "echo: q2", "echo: q3"]);
	} finally {
		await s.delete();
	}
});
