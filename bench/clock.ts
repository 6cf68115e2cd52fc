/**
 * A clock shared by the benchmark's server and its load generator in another
 * process: virtual time runs `speed` times faster than real time from an agreed
 * origin, so every user gets fresh TOTP time steps many times a second and the
 * load is real verifies, not replays.
 */
export interface SharedClock {
  originReal: number;
  originVirtual: number;
  speed: number;
}

export const virtualNow = (clock: SharedClock, real = Date.now()): number =>
  clock.originVirtual + (real - clock.originReal) * clock.speed;
