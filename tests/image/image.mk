# make test-image: build toolchain/Dockerfile with podman and run the
# image's entrypoint from its root filesystem (podman mount, then unshare
# and chroot: podman run needs cgroups this machine lacks); checks
# /v1/health and a mock session from the host, prints PASS or FAIL.
# See tests/image/run.sh and docs/deploy.md.

test-image: dist
	tests/image/run.sh build/dist/agentd

.PHONY: test-image
