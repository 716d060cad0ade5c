/*
 * ui.c: the inspector page of /ui/, built into the binary.
 *
 * The files of ui/ are gzipped at build time (gzip -9n: the same bytes for
 * the same source) into build/gen/ui/, and the assembler includes them
 * here as they are (paths are relative to the top of the tree, where make
 * runs); ui/ui.mk makes this object depend on them. api.c serves the bytes
 * unchanged with Content-Encoding: gzip, which every browser accepts.
 *
 * The page holds no secret, so server.c lets GET /ui and /ui/... through
 * without the token; the page takes ?access_token= or asks for the token,
 * and sends it with every API call it makes.
 */
#include <string.h>

#include "http.h"

/*
 * Include a file as the bytes sym[] up to sym_end[]. The section is
 * agentd_blobs, not .rodata: the linker then puts the large blobs (these
 * and openapi.c's) together after .rodata instead of among the constants
 * agentd reads at start, whose page faults would also map the blobs'
 * neighbouring pages (fault-around): about 250 KiB of idle RSS. path is
 * a string literal joined to its neighbours in the .incbin line: it
 * cannot be put in parentheses, as bugprone-macro-parentheses asks.
 */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define UI_INCBIN(sym, path)                                  \
	__asm__("	.section agentd_blobs,\"a\",@progbits\n"    \
		"	.globl " #sym "\n"                    \
		"	.type " #sym ", @object\n" #sym ":\n" \
		"	.incbin \"" path "\"\n"               \
		"	.globl " #sym "_end\n" #sym "_end:\n" \
		"	.previous\n");                        \
	extern const unsigned char sym[], sym##_end[]
/* NOLINTEND(bugprone-macro-parentheses) */

UI_INCBIN(ui_index_html, "build/gen/ui/index.html.gz");
UI_INCBIN(ui_app_js, "build/gen/ui/app.js.gz");
UI_INCBIN(ui_app_css, "build/gen/ui/app.css.gz");
UI_INCBIN(ui_redirect_html, "build/gen/ui/redirect.html.gz");
/* The Terminal view's xterm.js, as npm publishes it (ui/vendor/fetch.sh). */
UI_INCBIN(ui_xterm_mjs, "build/gen/ui/vendor/xterm.mjs.gz");
UI_INCBIN(ui_xterm_css, "build/gen/ui/vendor/xterm.css.gz");
UI_INCBIN(ui_addon_fit_mjs, "build/gen/ui/vendor/addon-fit.mjs.gz");

/*
 * By name under /ui/. "" is what GET /ui (no slash) gets: a page that sends
 * the browser on to ui/, where the page's relative URLs resolve.
 */
static const struct ui_asset ui_assets[] = {
	{ "index.html", "text/html; charset=utf-8", ui_index_html,
	    ui_index_html_end },
	{ "app.js", "text/javascript; charset=utf-8", ui_app_js,
	    ui_app_js_end },
	{ "app.css", "text/css; charset=utf-8", ui_app_css, ui_app_css_end },
	{ "xterm.mjs", "text/javascript; charset=utf-8", ui_xterm_mjs,
	    ui_xterm_mjs_end },
	{ "xterm.css", "text/css; charset=utf-8", ui_xterm_css,
	    ui_xterm_css_end },
	{ "addon-fit.mjs", "text/javascript; charset=utf-8", ui_addon_fit_mjs,
	    ui_addon_fit_mjs_end },
	{ "", "text/html; charset=utf-8", ui_redirect_html,
	    ui_redirect_html_end },
};

/* The file called name, or NULL. */
const struct ui_asset *
ui_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(ui_assets); i++) {
		if (strcmp(ui_assets[i].name, name) == 0)
			return (&ui_assets[i]);
	}
	return (NULL);
}
