/** How a Lease election paces itself; each field defaults to client-go's (see defaultTiming). */
export interface LeaderElectionTiming {
  /** How long a holder that stopped renewing keeps the Lease (default 15 s). */
  leaseDurationSeconds?: number;
  /** A leader that could not renew for this long steps down (default 10 s). */
  renewDeadlineMs?: number;
  /** Time between attempts; a follower waits up to 2.2 times it, at random (default 2 s). */
  retryPeriodMs?: number;
}

/** client-go's defaults (LeaseDuration 15 s, RenewDeadline 10 s, RetryPeriod 2 s). */
export const defaultTiming = {
  leaseDurationSeconds: 15,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
} as const satisfies Required<LeaderElectionTiming>;

/** client-go's JitterFactor: a follower waits retryPeriod × (1 + up to 1.2). */
export const jitterFactor = 1.2;
