"""The benchmark suite of aiohttp_retry: overhead of the success path against bare aiohttp and 2.9.1.

    python -m benchmarks [--quick] [--help]   # interleaved rounds, valgrind instruction counts, JSON
    python -m benchmarks.engine_micro         # the engine's own cost per call, no network
    python -m benchmarks.soak [--quick]       # 1M requests with failures: RSS growth, leaked connections
    python -m benchmarks.report_memory        # a Report over 1M calls: memory, p99 accuracy, cost per event
    python -m benchmarks.limits_scenario [--quick] [--json PATH]   # rate, concurrency, throttle at a local server

Never part of the test suite; timings are reported, not asserted.
"""
