/** A commit of the branch with its parents, the first parent first. */
export interface LinkedCommit {
  sha: string;
  /** ISO time it was committed. */
  date: string;
  parents: readonly string[];
}

/**
 * When each commit reached the branch whose head is `head`, as `git log --first-parent` tells
 * it: a commit of the first-parent line reached it when it was committed; a commit that a merge
 * brought in (from its other parents) reached it with the oldest such merge of the line. Only
 * the commits given are followed: a merge's other parents are in the map, but of the commits
 * behind them only those given; a commit a merge beyond them brought in is not.
 */
export function landingTimes(commits: readonly LinkedCommit[], head: string): Map<string, string> {
  const bySha = new Map(commits.map((commit) => [commit.sha, commit]));
  const line: LinkedCommit[] = [];
  const seen = new Set<string>();
  for (let at = bySha.get(head); at && !seen.has(at.sha); at = bySha.get(at.parents[0] ?? "")) {
    seen.add(at.sha);
    line.push(at);
  }
  const landed = new Map(line.map((commit) => [commit.sha, commit.date]));
  // Oldest merge first: a commit two merges brought in reached the branch with the first.
  for (const merge of line.toReversed()) {
    const side = merge.parents.slice(1);
    for (let sha = side.pop(); sha !== undefined; sha = side.pop()) {
      if (landed.has(sha)) continue;
      landed.set(sha, merge.date);
      side.push(...(bySha.get(sha)?.parents ?? []));
    }
  }
  return landed;
}
