#define _GNU_SOURCE
#include "CQuarryLinux.h"
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

_Static_assert(sizeof(struct ucred) == sizeof(cq_ucred), "cq_ucred must mirror struct ucred");

int cq_sol_socket(void) { return SOL_SOCKET; }
int cq_so_peercred(void) { return SO_PEERCRED; }

void cq_name_this_thread(const char *name) {
    char cut[16];
    strncpy(cut, name, sizeof cut - 1);
    cut[sizeof cut - 1] = 0;
    (void)pthread_setname_np(pthread_self(), cut);
}
