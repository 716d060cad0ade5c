// A serverless-style function over agentd: each invocation is a fresh
// process (or a fresh Lambda/Vercel/Workers call) that keeps nothing in
// memory; the caller stores { sessionId, cursor } between invocations.
//
//   { action: "start", prompt, agent? }      create a session, send the
//                                            prompt, return at once
//   { action: "poll", sessionId, cursor }    only the events after cursor,
//                                            the new cursor, the text so
//                                            far, what waits for an answer
//   { action: "answer", sessionId, permissionId, reply }
//                                            answer a permission request
//   { action: "stop", sessionId }            delete the session
//
// agentd's address and token come from AGENTD_URL and AGENTD_TOKEN.
import { pathToFileURL } from "node:url";
import { AgentdClient } from "@agentd/client";

const client = new AgentdClient({
	baseUrl: process.env.AGENTD_URL ?? "http://127.0.0.1:2468",
	token: process.env.AGENTD_TOKEN,
});

export async function handler(req) {
	switch (req.action) {
	case "start": {
		const s = await client.startSession({ agent: req.agent ?? "mock" });
		await s.send(req.prompt);
		return { sessionId: s.id, cursor: 0 };
	}
	case "poll": {
		const s = client.session(req.sessionId);
		const { events, cursor, hasMore } = await s.eventsSince(req.cursor,
		    { limit: 500 });
		const answered = new Set(events.filter((e) =>
		    e.type === "permission.resolved").map((e) =>
		    e.data.permission_id));
		return {
			sessionId: req.sessionId,
			cursor,
			hasMore,
			events,
			text: events.filter((e) => e.type === "item.delta")
			    .map((e) => e.data.delta).join(""),
			permissions: events.filter((e) =>
			    e.type === "permission.requested" &&
			    !answered.has(e.data.permission_id)).map((e) => ({
				permissionId: e.data.permission_id,
				action: e.data.action,
			    })),
			done: events.some((e) => e.type === "turn.ended" ||
			    e.type === "session.ended"),
		};
	}
	case "answer":
		await client.session(req.sessionId).replyPermission(
		    req.permissionId, req.reply);
		return { ok: true };
	case "stop":
		await client.deleteSession(req.sessionId);
		return { ok: true };
	default:
		throw new Error(`unknown action ${JSON.stringify(req.action)}`);
	}
}

// As a command: node handler.mjs '{"action":"start","prompt":"hi"}'
// prints the answer as JSON (one invocation per process).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	handler(JSON.parse(process.argv[2])).then(
	    (r) => process.stdout.write(JSON.stringify(r) + "\n"),
	    (e) => { console.error(String(e)); process.exit(1); });
}
