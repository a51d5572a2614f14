//! Independent work on every core, with the results a sequential loop would give.
//!
//! The work is function bodies (validating them, reading them for the model, instrumenting
//! them): on a 10 MB module they are most of a stage's time, and each is independent of the
//! others once the module's sections are read. It is also the copy that joins a large output
//! into one buffer (`Rope::into_bytes`), whose parts go to disjoint ranges of it. Items go in
//! contiguous runs of about equal weight, one thread each, so that the results come back in
//! order and the error reported is the earliest item's.

use anyhow::Result;

/// Below this total weight (bytes of code), threads cost more than they save.
const PARALLEL_WEIGHT: usize = 1 << 20;

/// A function body's weight for [`map_runs`]: its bytes of code.
pub fn code_bytes(body: &wasmparser::FunctionBody) -> usize {
    (body.range().end - body.range().start) as usize
}

/// `f(state, index, item)` for every item: the results in order, or the earliest failing
/// item's error. Each run of items gets its own `state()` (reused allocations, say).
pub fn map_runs<T: Send, R: Send, S>(
    items: Vec<T>,
    weight: impl Fn(&T) -> usize,
    state: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, usize, T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let total: usize = items.iter().map(&weight).sum();
    let threads = match total < PARALLEL_WEIGHT {
        true => 1,
        false => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let run = |run: Vec<(usize, T)>| -> Result<Vec<R>> {
        let mut s = state();
        run.into_iter()
            .map(|(i, item)| f(&mut s, i, item))
            .collect()
    };
    if threads <= 1 {
        return run(items.into_iter().enumerate().collect());
    }
    let per_run = total.div_ceil(threads);
    let mut runs: Vec<Vec<(usize, T)>> = vec![Vec::new()];
    let mut filled = 0;
    for (i, item) in items.into_iter().enumerate() {
        filled += weight(&item);
        runs.last_mut().expect("one run").push((i, item));
        if filled >= per_run {
            runs.push(Vec::new());
            filled = 0;
        }
    }
    let run = &run;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (runs.into_iter())
            .map(|items| scope.spawn(move || run(items)))
            .collect();
        let mut out = Vec::new();
        // Joined in order: the first run with an error holds the earliest failing item.
        for handle in handles {
            out.extend(handle.join().expect("a worker thread panicked")?);
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_order_and_the_earliest_error_is_reported() {
        let items: Vec<u32> = (0..1001).collect();
        // Heavy enough that the work is spread over threads.
        let heavy = |_: &u32| PARALLEL_WEIGHT / 100;
        let doubled = map_runs(items.clone(), heavy, || (), |_, i, x| Ok((i, x * 2))).unwrap();
        assert_eq!(doubled.len(), items.len());
        assert!(doubled
            .iter()
            .enumerate()
            .all(|(i, &(j, y))| i == j && y == 2 * i as u32));
        // Failures in both halves: the earlier item's is the one reported.
        let failed = map_runs(
            items.clone(),
            heavy,
            || (),
            |_, i, _| match i {
                700 | 30 | 999 => anyhow::bail!("item {i}"),
                _ => Ok(()),
            },
        );
        assert_eq!(failed.unwrap_err().to_string(), "item 30");
        // Each run keeps its state from item to item.
        let counts = map_runs(
            items,
            heavy,
            || 0u32,
            |seen, _, _| {
                *seen += 1;
                Ok(*seen)
            },
        )
        .unwrap();
        assert_eq!(counts[0], 1);
        assert_eq!(counts[1], 2);
        assert!(map_runs(Vec::<u32>::new(), heavy, || (), |_, _, _| Ok(()))
            .unwrap()
            .is_empty());
    }
}
