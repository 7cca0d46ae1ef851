/** What `pr-autoscaler plan --json` prints, as the tests read it. */
export interface PlanJson {
  proposals: {
    kind: string;
    key: string;
    pool?: string;
    from?: number;
    to?: number;
    direction?: string;
    changes: { file: string; path: string; before: unknown; after: unknown }[];
    reasons: string[];
    triggers?: Record<string, unknown>[];
    holds?: Record<string, unknown>[];
    decision?: Record<string, unknown>;
  }[];
  notes: NoteJson[];
}

/** A note of `plan --json`; a held pool's note carries its decision's data as well. */
export interface NoteJson {
  level: string;
  subject?: string;
  message: string;
  pool?: string;
  current?: number;
  reasons?: string[];
  triggers?: Record<string, unknown>[];
  holds?: Record<string, unknown>[];
  decision?: Record<string, unknown>;
}
