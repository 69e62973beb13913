//! The tenancy hot path of a warm request (criterion): claims to
//! `TenantContext` (authority from cached records included), a credential-cache
//! hit, tenant-scoped request building, and all of it together.
//! `make bench` runs it; see BENCHMARKS.md.

mod common;

use std::hint::black_box;
use std::time::Instant;

use common::Fixture;
use criterion::{Criterion, criterion_group, criterion_main};
use tenancy::table::WriteCondition;

fn hot_path(c: &mut Criterion) {
    let fixture = Fixture::new();
    let mut group = c.benchmark_group("tenancy");

    group.bench_function("claims_to_context", |b| {
        b.iter_custom(|iters| {
            fixture.runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(fixture.context().await);
                }
                start.elapsed()
            })
        })
    });

    group.bench_function("credential_cache_hit", |b| {
        b.iter_custom(|iters| {
            fixture.runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(fixture.dynamo.get(black_box(&fixture.tenant)).await.expect("hit"));
                }
                start.elapsed()
            })
        })
    });

    let dynamo = fixture.runtime.block_on(fixture.dynamo.get(&fixture.tenant)).expect("dynamo");
    group.bench_function("put_request_build", |b| {
        b.iter(|| {
            dynamo
                .table(&fixture.table)
                .put_write("note#1", black_box(&fixture.note), WriteCondition::Absent)
                .expect("put")
        })
    });

    group.bench_function("warm_request_overhead", |b| {
        b.iter_custom(|iters| {
            fixture.runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(fixture.overhead().await);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
