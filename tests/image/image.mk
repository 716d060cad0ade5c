# make test-image: build toolchain/Dockerfile with podman and run the
# image's entrypoint from its root filesystem (podman mount, then unshare
# and chroot: podman run needs cgroups this machine lacks); checks
# /v1/health and a mock session from the host, prints PASS or FAIL.
# See tests/image/run.sh and docs/deploy.md.

test-image: build/dist/agentd
	tests/image/run.sh build/dist/agentd

# make test-arm64: build/dist/agentd-linux-arm64 under qemu-user-static
# (file, version, health, a mock turn; tests/arm64/run.sh).

test-arm64: build/dist/agentd-linux-arm64
	tests/arm64/run.sh build/dist/agentd-linux-arm64

.PHONY: test-image test-arm64

# make test-agents-image: toolchain/Dockerfile.agents (Node.js, git, the
# pinned Claude Code and Codex CLIs) built with podman, then a real turn of
# each CLI through agentd inside the image's root against the mock model;
# prints the build time and the image's size. Not in make test's SUITES
# (10-20 minutes cold); see tests/agentsimage/run.sh and docs/deploy.md.

test-agents-image: build/dist/agentd
	tests/agentsimage/run.sh build/dist/agentd

.PHONY: test-agents-image
