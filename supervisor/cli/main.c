/*
 * main.c: the command line. agentd serve | run | attach | agents | install |
 * mock-agent | replay-agent | version | help.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 usage error.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char main_usage[] =
    "usage: agentd <command> [options]\n"
    "\n"
    "Runs coding agents (Claude Code, Codex, OpenCode, Gemini, Goose, Pi, "
    "Amp,\n"
    "any ACP agent) and serves their sessions as one universal event stream\n"
    "over HTTP, SSE and WebSocket.\n"
    "\n"
    "commands:\n"
    "  serve          run the daemon (see options below)\n"
    "  run AGENT [PROMPT]\n"
    "                 run one agent here, without a server, and show its "
    "events\n"
    "                 as text (agentd run --help)\n"
    "  attach URL SESSION\n"
    "                 follow and talk to a session of a running agentd\n"
    "                 (agentd attach --help)\n"
    "  agents         list the agents agentd knows, as GET /v1/agents does\n"
    "  install A...   npm install the pinned CLI of each agent into the data "
    "dir\n"
    "  mock-agent     run the built-in ACP mock agent on stdin/stdout\n"
    "  replay-agent F play a recorded agent transcript back (tests)\n"
    "  version        print the version\n"
    "  help           print this text\n"
    "\n"
    "serve options:\n"
    "  --host H          address to listen on (default 127.0.0.1); a "
    "non-loopback\n"
    "                    address needs --token or --no-token\n"
    "  --port P          TCP port (default 2468)\n"
    "  --token T         require 'Authorization: Bearer T' on every route but\n"
    "                    /v1/health (or ?access_token=T); also AGENTD_TOKEN\n"
    "  --token-fd N      read the token from descriptor N (agentd passes a\n"
    "                    --token or AGENTD_TOKEN to itself this way, so ps\n"
    "                    shows neither the token nor its length)\n"
    "  --no-token        serve without a token on any address\n"
    "  --data-dir D      where sessions are kept (default\n"
    "                    $XDG_STATE_HOME/agentd or ~/.local/state/agentd)\n"
    "  --log-level L     debug, info, warn or error (default info); logs are "
    "JSON\n"
    "                    lines on stderr\n"
    "  --cors-origin O   allow browser requests from origin O (repeatable);\n"
    "                    CORS is closed by default\n"
    "  --allow-host NAME answer requests whose Host is NAME (repeatable; "
    "\"*\"\n"
    "                    for any): IP literals and localhost always are\n"
    "  --max-line BYTES  cap of one line of agent output (default 64 MiB)\n"
    "  --max-body BYTES  cap of an HTTP request body (default 8 MiB)\n"
    "  --body-timeout S  a request body must arrive within S seconds plus\n"
    "                    one second per 64 KiB (default 10)\n"
    "  --idle-timeout S  end a turn whose agent says nothing for S seconds\n"
    "                    (default 0: never)\n"
    "  --kill-grace S    seconds between SIGTERM and SIGKILL (default 5)\n"
    "  --cancel-grace S  seconds an agent may take to honour a cancel; then\n"
    "                    the turn ends as cancelled and the agent restarts\n"
    "                    (resumed at the next message) (default 5)\n"
    "  --no-install      never npm install an agent: a session for one that "
    "is\n"
    "                    not installed is refused (by default its pinned CLI\n"
    "                    is installed on first use, the session waiting)\n"
    "  --agent-home M    where agents keep their own sessions, for sessions\n"
    "                    that do not say (\"home\"): none (agentd's HOME,\n"
    "                    the default), session (<data-dir>/homes/<id>) or\n"
    "                    shared (<data-dir>/home); the last two keep the\n"
    "                    agents' stores on the data dir's volume\n"
    "  --record DIR      write every agent's stdio to DIR/<session>.jsonl, "
    "the\n"
    "                    fixture format of tests/fixtures (for re-recording)\n"
    "  --containment M   how every process an agent starts is found and "
    "ended:\n"
    "                    cgroup (a cgroup v2 per session), subreaper, or "
    "auto\n"
    "                    (default: cgroup where agentd can make one)\n"
    "  --cgroup-parent P the cgroup under which sessions' cgroups go "
    "(default:\n"
    "                    agentd's own)\n"
    "  --max-sessions N  at most N sessions not ended (default: no limit)\n"
    "  --max-processes N at most N agents and API processes at once\n"
    "  --max-fds N       descriptors agentd may hold (default 16384, or\n"
    "                    the hard limit if lower); agents and processes\n"
    "                    get the limit agentd was started with\n"
    "  --session-memory B  memory limit of each session's cgroup (bytes, "
    "or\n"
    "                    with K, M or G); over it the session is stopped\n"
    "  --session-pids N  process limit of each session's cgroup\n"
    "  --webhook URL     POST every session's events to URL (http:// only)\n"
    "  --webhook-secret-file F\n"
    "                    sign webhook bodies with the secret in F "
    "(HMAC-SHA256)\n";

static int  main_serve(int, char **);
static void main_signal_cb(int);
static void main_token_from_fd(const char *);
static void main_secret_from_file(const char *);

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(main_usage, stderr);
		return (2);
	}
	cmd = argv[1];
	if (strcmp(cmd, "serve") == 0)
		return (main_serve(argc - 1, argv + 1));
	if (strcmp(cmd, "run") == 0)
		return (run_main(argc - 1, argv + 1));
	if (strcmp(cmd, "attach") == 0)
		return (attach_main(argc - 1, argv + 1));
	if (strcmp(cmd, "mock-agent") == 0)
		return (mockagent_main(argc - 1, argv + 1));
	if (strcmp(cmd, "replay-agent") == 0)
		return (replay_main(argc - 1, argv + 1));
	if (strcmp(cmd, "agents") == 0)
		return (agents_main(argc - 1, argv + 1));
	if (strcmp(cmd, "install") == 0)
		return (agents_install_main(argc - 1, argv + 1));
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("agentd %s\n", AGENTD_VERSION);
		return (0);
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		fputs(main_usage, stdout);
		return (0);
	}
	fprintf(stderr, "agentd: unknown command '%s'\n\n%s", cmd, main_usage);
	return (2);
}

/* Is host a loopback address (or a name that only means one)? */
static int
main_is_loopback(const char *host)
{
	struct in_addr	a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return (1);
	if (inet_pton(AF_INET, host, &a4) == 1)
		return ((ntohl(a4.s_addr) >> 24) == 127);
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return (IN6_IS_ADDR_LOOPBACK(&a6));
	return (0);
}

static size_t
main_size_arg(const char *name, const char *s)
{
	char		  *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > (1ULL << 40)) {
		fprintf(stderr, "agentd: %s: invalid size '%s'\n", name, s);
		exit(2);
	}
	return ((size_t)v);
}

/* A count for a limit: 1 to 2^22. */
static unsigned int
main_count_arg(const char *name, const char *s)
{
	char	     *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 4194304) {
		fprintf(stderr, "agentd: %s: invalid count '%s'\n", name, s);
		exit(2);
	}
	return ((unsigned int)v);
}

/* Bytes, with an optional K, M or G (powers of 1024); at least 1 MiB. */
static unsigned long long
main_bytes_arg(const char *name, const char *s)
{
	char		  *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	if (errno != 0 || *end != '\0' || v < (1ULL << 20) ||
	    v > (1ULL << 50)) {
		fprintf(stderr, "agentd: %s: invalid size '%s' (at least 1M)\n",
		    name, s);
		exit(2);
	}
	return (v);
}

static double
main_seconds_arg(const char *name, const char *s)
{
	char  *end;
	double v;

	v = strtod(s, &end);
	if (*end != '\0' || v < 0 || v > 1e7) {
		fprintf(stderr, "agentd: %s: invalid seconds '%s'\n", name, s);
		exit(2);
	}
	return (v);
}

static void
main_parse_serve(int argc, char **argv)
{
	static const struct option longopts[] = { { "host", required_argument,
						      NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "token", required_argument, NULL, 't' },
		{ "token-fd", required_argument, NULL, 'F' },
		{ "no-token", no_argument, NULL, 'n' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "cors-origin", required_argument, NULL, 'c' },
		{ "allow-host", required_argument, NULL, 'A' },
		{ "body-timeout", required_argument, NULL, 'T' },
		{ "max-line", required_argument, NULL, 'L' },
		{ "max-body", required_argument, NULL, 'B' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "kill-grace", required_argument, NULL, 'k' },
		{ "cancel-grace", required_argument, NULL, 'C' },
		{ "record", required_argument, NULL, 'R' },
		{ "no-install", no_argument, NULL, 'I' },
		{ "containment", required_argument, NULL, 'M' },
		{ "cgroup-parent", required_argument, NULL, 'G' },
		{ "max-sessions", required_argument, NULL, 'S' },
		{ "max-processes", required_argument, NULL, 'P' },
		{ "max-fds", required_argument, NULL, 'D' },
		{ "session-memory", required_argument, NULL, 'm' },
		{ "session-pids", required_argument, NULL, 'N' },
		{ "webhook", required_argument, NULL, 'W' },
		{ "webhook-secret-file", required_argument, NULL, 'X' },
		{ "agent-home", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	char			  *end;
	long			   port;
	enum home_mode		   hmode;
	int			   ch;

	while ((ch = getopt_long(argc, argv, "H:p:t:d:l:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'H':
			options.host = optarg;
			break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end != '\0' || port < 0 || port > 65535) {
				fprintf(stderr, "agentd: invalid port '%s'\n",
				    optarg);
				exit(2);
			}
			options.port = (int)port;
			break;
		case 't':
			xfree_secret(options.token);
			options.token = xstrdup(optarg);
			/* Hide the token from ps(1) and /proc/PID/cmdline. */
			memset(optarg, '*', strlen(optarg));
			break;
		case 'F':
			main_token_from_fd(optarg);
			break;
		case 'n':
			options.no_token = 1;
			break;
		case 'd':
			options.data_dir = optarg;
			break;
		case 'l':
			if (log_set_level(optarg) != 0)
				exit(2);
			break;
		case 'c':
			if (options.ncors ==
			    (int)nitems(options.cors_origins)) {
				fprintf(stderr,
				    "agentd: too many "
				    "--cors-origin\n");
				exit(2);
			}
			options.cors_origins[options.ncors++] = optarg;
			break;
		case 'A':
			if (options.nallow_hosts ==
			    (int)nitems(options.allow_hosts)) {
				fprintf(
				    stderr, "agentd: too many --allow-host\n");
				exit(2);
			}
			options.allow_hosts[options.nallow_hosts++] = optarg;
			break;
		case 'T':
			options.body_grace =
			    main_seconds_arg("--body-timeout", optarg);
			break;
		case 'L':
			options.max_line = main_size_arg("--max-line", optarg);
			break;
		case 'B':
			options.max_body = main_size_arg("--max-body", optarg);
			break;
		case 'i':
			options.idle_timeout =
			    main_seconds_arg("--idle-timeout", optarg);
			break;
		case 'k':
			options.kill_grace =
			    main_seconds_arg("--kill-grace", optarg);
			break;
		case 'C':
			options.cancel_grace =
			    main_seconds_arg("--cancel-grace", optarg);
			break;
		case 'R':
			options.record_dir = optarg;
			break;
		case 'I':
			options.no_install = 1;
			break;
		case 'M':
			options.containment = optarg;
			break;
		case 'G':
			options.cgroup_parent = optarg;
			break;
		case 'S':
			options.max_sessions =
			    main_count_arg("--max-sessions", optarg);
			break;
		case 'P':
			options.max_processes =
			    main_count_arg("--max-processes", optarg);
			break;
		case 'D':
			options.max_fds = main_count_arg("--max-fds", optarg);
			if (options.max_fds < 64) {
				fprintf(
				    stderr, "agentd: --max-fds: at least 64\n");
				exit(2);
			}
			break;
		case 'm':
			options.session_memory =
			    main_bytes_arg("--session-memory", optarg);
			break;
		case 'N':
			options.session_pids =
			    main_count_arg("--session-pids", optarg);
			break;
		case 'W':
			if (strncmp(optarg, "http://", 7) != 0) {
				fprintf(stderr,
				    "agentd: --webhook: only http:// URLs (TLS "
				    "needs a local relay: docs/deploy.md)\n");
				exit(2);
			}
			options.webhook_url = optarg;
			break;
		case 'X':
			main_secret_from_file(optarg);
			break;
		case 'a':
			if (home_mode_parse(optarg, &hmode) != 0) {
				fprintf(stderr,
				    "agentd: --agent-home: none, session or "
				    "shared, not '%s'\n",
				    optarg);
				exit(2);
			}
			options.agent_home = optarg;
			break;
		case 'h':
			fputs(main_usage, stdout);
			exit(0);
		default:
			fputs(main_usage, stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "agentd: serve: unexpected argument '%s'\n",
		    argv[optind]);
		exit(2);
	}
}

/* --webhook-secret-file F: the secret, its last newline dropped. */
static void
main_secret_from_file(const char *path)
{
	char	buf[4096];
	ssize_t n;
	size_t	len = 0;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "agentd: --webhook-secret-file %s: %s\n", path,
		    strerror(errno));
		exit(2);
	}
	while (len < sizeof buf - 1 &&
	    (n = read(fd, buf + len, sizeof buf - 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr,
			    "agentd: --webhook-secret-file %s: %s\n", path,
			    strerror(errno));
			exit(2);
		}
		len += (size_t)n;
	}
	close(fd);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == 0) {
		fprintf(
		    stderr, "agentd: --webhook-secret-file %s: empty\n", path);
		exit(2);
	}
	xfree_secret(options.webhook_secret);
	options.webhook_secret = xstrndup(buf, len);
	explicit_bzero(buf, sizeof buf);
}

/* --token-fd N: read the token from descriptor N (to its end), close N. */
static void
main_token_from_fd(const char *arg)
{
	char	buf[4096];
	char   *end;
	long	fd;
	ssize_t n;
	size_t	len = 0;

	fd = strtol(arg, &end, 10);
	if (*end != '\0' || fd < 0 || fd > INT_MAX) {
		fprintf(
		    stderr, "agentd: --token-fd: not a descriptor '%s'\n", arg);
		exit(2);
	}
	while (len < sizeof buf - 1 &&
	    (n = read((int)fd, buf + len, sizeof buf - 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "agentd: --token-fd %ld: %s\n", fd,
			    strerror(errno));
			exit(2);
		}
		len += (size_t)n;
	}
	close((int)fd);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	xfree_secret(options.token);
	options.token = len > 0 ? xstrdup(buf) : NULL;
	explicit_bzero(buf, sizeof buf);
}

/*
 * Is argv[i] the token? 2 if it is "--token T" or "-t T", 1 if it holds
 * the token itself ("--token=T", "-tT"), 0 if not; *token is set.
 */
static int
main_token_arg(int argc, char **argv, int i, const char **token)
{
	/* argv[i] is not NULL: i < argc (main's argv, C11 5.1.2.2.1).
	 * NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
	if ((strcmp(argv[i], "--token") == 0 || strcmp(argv[i], "-t") == 0) &&
	    i + 1 < argc) {
		*token = argv[i + 1];
		return (2);
	}
	if (strncmp(argv[i], "--token=", 8) == 0) {
		*token = argv[i] + 8;
		return (1);
	}
	if (strncmp(argv[i], "-t", 2) == 0 && argv[i][2] != '\0') {
		*token = argv[i] + 2;
		return (1);
	}
	return (0);
}

/*
 * A token on the command line or in AGENTD_TOKEN shows in ps(1) and in
 * /proc/PID/cmdline or environ: overwriting it in place still shows its
 * length. So agentd execs itself again, once, with the token moved to a
 * pipe (--token-fd) and gone from argv and the environment. Returns only
 * if there is nothing to hide or the exec failed (then the token is
 * masked in place, as before).
 */
static void
main_reexec_hidden(int argc, char **argv)
{
	char	    **nargv, **nenv, fdarg[16];
	const char   *token = NULL, *e;
	extern char **environ;
	size_t	      n, k;
	int	      i, fds[2];

	for (i = 1; i < argc; i++) {
		if (main_token_arg(argc, argv, i, &token) == 2)
			i++;
	}
	if (token == NULL && (token = getenv("AGENTD_TOKEN")) == NULL)
		return;
	/*
	 * Under valgrind, /proc/self/exe is valgrind's tool, not agentd:
	 * mask in place instead (tests/valgrind runs agentd so).
	 */
	if ((e = getenv("LD_PRELOAD")) != NULL &&
	    strstr(e, "vgpreload") != NULL)
		return;
	if (pipe(fds) != 0 ||
	    write(fds[1], token, strlen(token)) != (ssize_t)strlen(token)) {
		log_warn("cannot hide the token from ps: %s", strerror(errno));
		return;
	}
	close(fds[1]);
	/* argv is main's argv + 1 ("serve" first): argv[-1] is agentd. */
	nargv = xcalloc((size_t)argc + 4, sizeof *nargv);
	nargv[0] = argv[-1];
	nargv[1] = (char *)"serve";
	for (i = 1, k = 2; i < argc; i++) {
		switch (main_token_arg(argc, argv, i, &token)) {
		case 2:
			i++;
			break;
		case 0:
			nargv[k++] = argv[i];
			break;
		}
	}
	snprintf(fdarg, sizeof fdarg, "%d", fds[0]);
	nargv[k++] = (char *)"--token-fd";
	nargv[k++] = fdarg;
	for (n = 0; environ[n] != NULL; n++)
		;
	nenv = xcalloc(n + 1, sizeof *nenv);
	for (n = 0, k = 0; environ[n] != NULL; n++) {
		if (strncmp(environ[n], "AGENTD_TOKEN=", 13) != 0)
			nenv[k++] = environ[n];
	}
	execve("/proc/self/exe", nargv, nenv);
	log_warn("cannot hide the token from ps: exec: %s", strerror(errno));
	close(fds[0]);
	free(nargv);
	free(nenv);
}

/* Take the token from the environment and scrub it from there, so no
 * child can inherit it. */
static void
main_token_from_env(void)
{
	const char *s;

	if ((s = getenv("AGENTD_TOKEN")) != NULL) {
		if (options.token == NULL && *s != '\0')
			options.token = xstrdup(s);
		/* /proc/PID/environ shows the original block: wipe it there. */
		memset((char *)s, 'x', strlen(s));
		unsetenv("AGENTD_TOKEN");
	}
}

static int
main_serve(int argc, char **argv)
{
	char *cause;

	agentd_start_ms = loop_now_ms();
	main_reexec_hidden(argc, argv);
	main_token_from_env();
	main_parse_serve(argc, argv);
	if (options.token != NULL && options.no_token)
		fatalx("--token and --no-token are exclusive");
	if (options.token == NULL && !options.no_token &&
	    !main_is_loopback(options.host))
		fatalx("refusing to serve %s without a token: pass --token "
		       "(or AGENTD_TOKEN), or --no-token to serve it open",
		    options.host);
	if (options.data_dir == NULL)
		options.data_dir = options_default_data_dir();
	proc_raise_nofile();

	loop_init();
	loop_on_signal(SIGTERM, main_signal_cb);
	loop_on_signal(SIGINT, main_signal_cb);
	if (store_init(options.data_dir, &cause) != 0)
		fatalx("data dir %s: %s", options.data_dir, cause);
	/* Held until we exit: one agentd per data dir. */
	if (store_lock(options.data_dir, &cause) == -1)
		fatalx("%s", cause);
	if (contain_init(&cause) != 0)
		fatalx("%s", cause);
	if (options.session_memory > 0 && !contain_can_limit("memory"))
		fatalx("--session-memory: this machine gives agentd no cgroup "
		       "with the memory controller (containment: %s)",
		    contain_mode_name());
	if (options.session_pids > 0 && !contain_can_limit("pids"))
		fatalx("--session-pids: this machine gives agentd no cgroup "
		       "with the pids controller (containment: %s)",
		    contain_mode_name());
	archive_sweep(); /* imports and exports cut short by a stop */
	if (session_load_all(&cause) != 0)
		fatalx("loading sessions: %s", cause);
	if (acpserver_load_all(&cause) != 0)
		fatalx("loading ACP servers: %s", cause);
	if (procs_load_all(&cause) != 0)
		fatalx("loading processes: %s", cause);
	if (server_start(&cause) != 0)
		fatalx("%s", cause);
	webhook_start();
	loop_run();
	acpserver_shutdown();
	procs_shutdown();
	session_shutdown();
	log_info("stopped");
	return (0);
}

/* SIGTERM or SIGINT: stop the agents, close the server, leave the loop. */
static void
main_signal_cb(int signo)
{
	log_info("signal %d: shutting down", signo);
	server_stop();
	webhook_stop();
	loop_break();
}
