/**
 * The smallest k such that a Binomial(trials, chance) count exceeds k with
 * probability below `falseAlarm`: a test that allows at most k successes fails
 * a correct system that rarely, and an attacker's k+1 or more is a broken bound.
 */
export function binomialBound(trials: number, chance: number, falseAlarm: number): number {
  let below = 0;
  for (let k = 0; k <= trials; k++) {
    below += choose(trials, k) * chance ** k * (1 - chance) ** (trials - k);
    if (1 - below < falseAlarm) return k;
  }
  return trials;
}

function choose(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - i + 1)) / i;
  return result;
}
