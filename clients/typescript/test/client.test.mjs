// clients/typescript: every method of dist/index.js against a real agentd
// with the built-in mock agent, over SSE and (where node has WebSocket)
// over WebSocket, including a kill and restart of agentd mid-stream.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { AgentdClient, AgentdError } from "../dist/index.js";
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
