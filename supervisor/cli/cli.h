/*
 * cli.h: the command line: main, run, attach, the terminal renderer and
 * the WebSocket client. One section per file.
 */
#ifndef CLI_H
#define CLI_H

#include "../fake/fake.h"
#include "../http/http.h"

/* client.c */
struct client;
struct client_cbs {
	void (*connected)(void *);
	void (*message)(void *, const char *, size_t);
	void (*closed)(void *, const char *); /* reason, or NULL */
};
struct client *client_new(const struct client_cbs *, void *, char **);
int  client_connect(struct client *, const char *, int, int, const char *,
     const char *, char **);
int  client_send(struct client *, const char *, size_t);
void client_close(struct client *);
void client_free(struct client *);

/* render.c */
#define RENDER_COLOR 0x1 /* ANSI colours and dim */
#define RENDER_TTY   0x2 /* spinner redrawn in place with \r */
#define RENDER_USER  0x4 /* show the user's messages too */
#define RENDER_ASK   0x8 /* keep permissions and questions to ask */
struct render;
typedef void (*render_write_cb)(void *, int, const char *, size_t);
struct render *render_new(int, int, render_write_cb, void *);
void	       render_free(struct render *);
void	       render_event(struct render *, const cJSON *);
void	       render_tick(struct render *);
int	       render_spinning(struct render *);
void	render_note(struct render *, int, const char *, ...) __printflike(3, 4);
void	render_error(struct render *, const char *, ...) __printflike(2, 3);
void	render_prompt(struct render *);
int	render_asking(struct render *);
cJSON  *render_answer(struct render *, const char *);
void	render_input_line(struct render *);
int64_t render_time_ms(const char *);
int	render_width(int);
struct render_input;
typedef void (*render_line_cb)(void *, const char *);
struct render_input	 *
render_input_new(int, render_line_cb, void (*)(void *), void *);
void render_input_free(struct render_input *);
void render_write_fd(void *, int, const char *, size_t);
int  render_color_wanted(int);

/* run.c */
int run_main(int, char **);

/* attach.c */
int attach_main(int, char **);

#endif /* CLI_H */
