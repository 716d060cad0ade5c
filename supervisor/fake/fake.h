/*
 * fake.h: agents made by agentd itself: the mock agent and the replay
 * agent that plays a recorded fixture. One section per file.
 */
#ifndef FAKE_H
#define FAKE_H

#include "../core/core.h"

/* replay.c */
int replay_main(int, char **);

/* mockagent.c */
int mockagent_main(int, char **);

#endif /* FAKE_H */
