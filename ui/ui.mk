# ui/ui.mk: the inspector page at /ui/ (included by the Makefile).
#
# The files of ui/ are the source. At build time each is gzipped with
# gzip -9n (no name, no time: the same bytes for the same source) into
# build/gen/ui/, and supervisor/http/ui.c includes those with the assembler's
# .incbin; agentd serves them as they are, with Content-Encoding: gzip.
#
# ui/vendor/ holds xterm.js and its fit addon (the Terminal view) as npm
# publishes them: ui/vendor/fetch.sh fetches them again and checks each
# tarball's sha512. They are served flat, as /ui/xterm.mjs and so on;
# xterm.mjs carries its licence header, LICENSE.* stay in the tree.
#
#   make test-ui	drive the page in headless Chromium with playwright-core
#			(tests/ui/suite.sh installs both where missing); leaves
#			build/ui-screenshot.png

UI_FILES	 = index.html app.js app.css redirect.html \
		   vendor/xterm.mjs vendor/xterm.css vendor/addon-fit.mjs
UI_GZ		 = $(UI_FILES:%=build/gen/ui/%.gz)

build/gen/ui/%.gz: ui/%
	@mkdir -p $(@D)
	@echo "  GZIP    $<"
	$(Q)gzip -9n <$< >$@.tmp && mv $@.tmp $@

# Every object made of supervisor/http/ui.c includes them.
build/musl/supervisor/http/ui.o build/host/supervisor/http/ui.o \
build/san/supervisor/http/ui.o build/fuzz/obj/supervisor/http/ui.o: $(UI_GZ)

test-ui: build/agentd
	tests/ui/suite.sh build/agentd

.PHONY: test-ui
