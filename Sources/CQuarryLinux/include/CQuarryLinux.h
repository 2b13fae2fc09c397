#ifndef CQUARRYLINUX_H
#define CQUARRYLINUX_H

#include <stdint.h>
#include <sys/types.h>

/// Mirror of Linux's `struct ucred` (SO_PEERCRED), which Glibc's Swift module
/// does not export because it is hidden behind _GNU_SOURCE.
typedef struct cq_ucred {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
} cq_ucred;

/// SOL_SOCKET / SO_PEERCRED as the kernel defines them.
int cq_sol_socket(void);
int cq_so_peercred(void);

/// Names the calling thread as `top -H`, `ps -L` and perf show it
/// (pthread_setname_np). Linux keeps up to 15 bytes; a longer name is cut there.
void cq_name_this_thread(const char *name);

#endif
