// Cost of the syscalls libunwind makes inside stallwatch's signal handler, on this machine.
//   cc -O2 syscall-cost.c -o /tmp/syscall-cost && /tmp/syscall-cost
// (Finding 1 in bench/RESULTS.md.) Not part of npm run bench.
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
static double now(){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec*1e9+t.tv_nsec;}
int main(){ sigset_t full, old; sigfillset(&full); int N=200000; double t0=now();
 for(int i=0;i<N;i++){ sigprocmask(SIG_SETMASK,&full,&old); sigprocmask(SIG_SETMASK,&old,NULL);} double t1=now();
 printf("sigprocmask pair: %.0f ns per call\n",(t1-t0)/N/2);
 unsigned char v; char buf[8]; static char page[4096] __attribute__((aligned(4096))); int p[2]; pipe(p);
 t0=now(); for(int i=0;i<N;i++){ mincore(page,4096,&v);} t1=now(); printf("mincore %.0f ns\n",(t1-t0)/N);
 t0=now(); for(int i=0;i<N;i++){ write(p[1],page,1); read(p[0],buf,1);} t1=now(); printf("pipe write+read %.0f ns\n",(t1-t0)/N);
 t0=now(); for(int i=0;i<N;i++){ syscall(SYS_gettid);} t1=now(); printf("gettid %.0f ns\n",(t1-t0)/N);
}
