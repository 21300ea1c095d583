/* spw-conform engine — time. Monotonic milliseconds for every deadline,
 * the wall clock only for capture time stamps. */
#ifndef SPW_CONFORM_CLOCK_H
#define SPW_CONFORM_CLOCK_H

long cf_now_ms(void);
/* Monotonic microseconds, for windows shorter than a millisecond. */
long long cf_now_us(void);
long long cf_wall_us(void);
void cf_sleep_ms(int ms);

#endif
