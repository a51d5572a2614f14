;; compsnap example: an init that does real work.
;;
;; `wizer-initialize` builds the 256-entry CRC-32 table and parses the config blob
;; "name=value;..." into a table of (crc32(name), value) pairs. `run` answers a query from
;; those tables, and traps if init has not run. After `compsnap examples/lookup.wat -o
;; lookup.snap.wasm`, `run` works straight away: the tables are in the snapshot's memory.
(component
  (core module $app
    (memory (export "memory") 1)
    (global $ready (mut i32) (i32.const 0))
    (global $entries (mut i32) (i32.const 0))
    ;; 0x0000: CRC-32 table (1 KiB), 0x1000: parsed pairs (8 bytes each), 0x8000: config text
    (data (i32.const 0x8000) "alpha=3;beta=14;gamma=159;delta=2653;epsilon=58979;\00")

    (func $build_crc_table (local $n i32) (local $c i32) (local $k i32)
      (loop $each
        (local.set $c (local.get $n))
        (local.set $k (i32.const 8))
        (loop $bits
          (local.set $c
            (if (result i32) (i32.and (local.get $c) (i32.const 1))
              (then (i32.xor (i32.const 0xEDB88320) (i32.shr_u (local.get $c) (i32.const 1))))
              (else (i32.shr_u (local.get $c) (i32.const 1)))))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $bits (local.get $k)))
        (i32.store (i32.shl (local.get $n) (i32.const 2)) (local.get $c))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $each (i32.lt_u (local.get $n) (i32.const 256)))))

    ;; crc32 of memory[ptr .. ptr+len)
    (func $crc (param $ptr i32) (param $len i32) (result i32) (local $c i32)
      (local.set $c (i32.const -1))
      (block $done
        (loop $next
          (br_if $done (i32.eqz (local.get $len)))
          (local.set $c
            (i32.xor
              (i32.load (i32.shl
                (i32.and (i32.xor (local.get $c) (i32.load8_u (local.get $ptr))) (i32.const 255))
                (i32.const 2)))
              (i32.shr_u (local.get $c) (i32.const 8))))
          (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
          (local.set $len (i32.sub (local.get $len) (i32.const 1)))
          (br $next)))
      (i32.xor (local.get $c) (i32.const -1)))

    ;; Parses "name=value;" pairs from 0x8000 into (crc32(name), value) at 0x1000.
    (func $parse_config (local $p i32) (local $name i32) (local $value i32) (local $out i32) (local $ch i32)
      (local.set $p (i32.const 0x8000))
      (local.set $out (i32.const 0x1000))
      (block $end
        (loop $pair
          (br_if $end (i32.eqz (i32.load8_u (local.get $p))))
          (local.set $name (local.get $p))
          (loop $scan_name
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br_if $scan_name (i32.ne (i32.load8_u (local.get $p)) (i32.const 61)))) ;; '='
          (i32.store (local.get $out) (call $crc (local.get $name) (i32.sub (local.get $p) (local.get $name))))
          (local.set $value (i32.const 0))
          (block $num_end
            (loop $digit
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (local.set $ch (i32.load8_u (local.get $p)))
              (br_if $num_end (i32.eq (local.get $ch) (i32.const 59))) ;; ';'
              (local.set $value (i32.add (i32.mul (local.get $value) (i32.const 10))
                                         (i32.sub (local.get $ch) (i32.const 48))))
              (br $digit)))
          (i32.store offset=4 (local.get $out) (local.get $value))
          (local.set $out (i32.add (local.get $out) (i32.const 8)))
          (global.set $entries (i32.add (global.get $entries) (i32.const 1)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $pair))))

    (func (export "wizer-initialize")
      (call $build_crc_table)
      (call $parse_config)
      (global.set $ready (i32.const 1)))

    ;; run(i): crc32 of the whole config text, xor the value of the i-th entry (mod count).
    (func (export "run") (param $i i32) (result i32)
      (if (i32.eqz (global.get $ready)) (then unreachable))
      (i32.xor
        (call $crc (i32.const 0x8000) (i32.const 51))
        (i32.load offset=4
          (i32.add (i32.const 0x1000)
            (i32.shl (i32.rem_u (local.get $i) (global.get $entries)) (i32.const 3)))))))

  (core instance $i (instantiate $app))
  (func (export "wizer-initialize") (canon lift (core func $i "wizer-initialize")))
  (func (export "run") (param "i" u32) (result u32) (canon lift (core func $i "run")))
)
