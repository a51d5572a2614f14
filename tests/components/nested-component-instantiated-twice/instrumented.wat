(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (component $counter (;0;)
    (type (;0;) (list u8))
    (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
    (import "compsnap-sink" (func (;0;) (type 1)))
    (core module $m (;0;)
      (type (;0;) (func (param i32)))
      (type (;1;) (func (result i32)))
      (memory (;0;) 1)
      (global $n (;0;) (mut i32) i32.const 0)
      (export "bump" (func 0))
      (export "get" (func 1))
      (export "__compsnap_memory0" (memory 0))
      (export "__compsnap_global0" (global $n))
      (func (;0;) (type 0) (param i32)
        global.get $n
        local.get 0
        i32.add
        global.set $n
        i32.const 8
        global.get $n
        i32.const 10
        i32.mul
        i32.store
      )
      (func (;1;) (type 1) (result i32)
        global.get $n
        i32.const 8
        i32.load
        i32.add
      )
    )
    (core instance $i (;0;) (instantiate $m))
    (type (;2;) (func (param "by" u32)))
    (alias core export $i "bump" (core func (;0;)))
    (func (;1;) (type 2) (canon lift (core func 0)))
    (type (;3;) (func (result u32)))
    (alias core export $i "get" (core func (;1;)))
    (func (;2;) (type 3) (canon lift (core func 1)))
    (export (;3;) "bump" (func 1))
    (export (;4;) "get" (func 2))
    (type (;4;) (func))
    (alias core export $i "__compsnap_memory0" (core memory (;0;)))
    (alias core export $i "__compsnap_global0" (core global (;0;)))
    (core func (;2;) (canon lower (func 0) (memory 0)))
    (core instance (;1;)
      (export "m0" (memory 0))
      (export "p0" (func 2))
      (export "g1_0" (global 0))
    )
    (core module (;1;)
      (type (;0;) (func (param i32 i32 i32 i64 i64)))
      (type (;1;) (func))
      (import "a" "m0" (memory (;0;) 0))
      (import "a" "p0" (func (;0;) (type 0) (param i32 i32 i32 i64 i64)))
      (import "a" "g1_0" (global (;0;) (mut i32)))
      (export "dump" (func 1))
      (func (;1;) (type 1)
        (local i32 i32 i32 i32 i32)
        memory.size
        local.set 0
        i32.const 0
        local.set 1
        block ;; label = @1
          loop ;; label = @2
            local.get 0
            i32.eqz
            br_if 1 (;@1;)
            local.get 0
            i32.const 1024
            local.get 0
            i32.const 1024
            i32.lt_u
            select
            local.set 2
            i32.const 0
            local.get 1
            local.get 2
            i32.const 16
            i32.shl
            i64.const 0
            i64.const 0
            call 0
            local.get 1
            local.get 2
            i32.const 16
            i32.shl
            i32.add
            local.set 1
            local.get 0
            local.get 2
            i32.sub
            local.set 0
            br 0 (;@2;)
          end
        end
        i32.const 1
        i32.const 0
        i32.const 0
        global.get 0
        i64.extend_i32_u
        i64.const 0
        call 0
      )
    )
    (core instance (;2;) (instantiate 1
        (with "a" (instance 1))
      )
    )
    (alias core export 2 "dump" (core func (;3;)))
    (func (;5;) (type 4) (canon lift (core func 3)))
    (export (;6;) "compsnap-dump" (func 5))
  )
  (component $driver (;1;)
    (type (;0;) (list u8))
    (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
    (import "compsnap-sink" (func (;0;) (type 1)))
    (type (;2;)
      (instance
        (type (;0;) (func (param "by" u32)))
        (export (;0;) "bump" (func (type 0)))
      )
    )
    (import "a" (instance $a (;0;) (type 2)))
    (type (;3;)
      (instance
        (type (;0;) (func (param "by" u32)))
        (export (;0;) "bump" (func (type 0)))
      )
    )
    (import "b" (instance $b (;1;) (type 3)))
    (alias export $a "bump" (func (;1;)))
    (core func $ba (;0;) (canon lower (func 1)))
    (alias export $b "bump" (func (;2;)))
    (core func $bb (;1;) (canon lower (func 2)))
    (core module $dm (;0;)
      (type (;0;) (func (param i32)))
      (type (;1;) (func))
      (import "a" "bump" (func $ba (;0;) (type 0) (param i32)))
      (import "b" "bump" (func $bb (;1;) (type 0) (param i32)))
      (export "init" (func 2))
      (func (;2;) (type 1)
        i32.const 5
        call $ba
        i32.const 7
        call $bb
      )
    )
    (core instance (;0;)
      (export "bump" (func $ba))
    )
    (core instance (;1;)
      (export "bump" (func $bb))
    )
    (core instance $d (;2;) (instantiate $dm
        (with "a" (instance 0))
        (with "b" (instance 1))
      )
    )
    (type (;4;) (func))
    (alias core export $d "init" (core func (;2;)))
    (func (;3;) (type 4) (canon lift (core func 2)))
    (export (;4;) "init" (func 3))
    (type (;5;) (func))
    (core instance (;3;))
    (core module (;1;)
      (type (;0;) (func (param i32 i32 i32 i64 i64)))
      (type (;1;) (func))
      (export "dump" (func 0))
      (func (;0;) (type 1)
        (local i32 i32 i32 i32 i32)
      )
    )
    (core instance (;4;) (instantiate 1
        (with "a" (instance 3))
      )
    )
    (alias core export 4 "dump" (core func (;3;)))
    (func (;5;) (type 5) (canon lift (core func 3)))
    (export (;6;) "compsnap-dump" (func 5))
  )
  (instance $c1 (;0;) (instantiate $counter
      (with "compsnap-sink" (func 0))
    )
  )
  (instance $c2 (;1;) (instantiate $counter
      (with "compsnap-sink" (func 0))
    )
  )
  (instance $drv (;2;) (instantiate $driver
      (with "a" (instance $c1))
      (with "b" (instance $c2))
      (with "compsnap-sink" (func 0))
    )
  )
  (alias export $drv "init" (func (;1;)))
  (export (;2;) "init" (func 1))
  (alias export $c1 "get" (func (;3;)))
  (export (;4;) "get-1" (func 3))
  (alias export $c2 "get" (func (;5;)))
  (export (;6;) "get-2" (func 5))
  (alias export $c1 "compsnap-dump" (func (;7;)))
  (export (;8;) "compsnap-dump-c0" (func 7))
  (alias export $c2 "compsnap-dump" (func (;9;)))
  (export (;10;) "compsnap-dump-c1" (func 9))
  (alias export $drv "compsnap-dump" (func (;11;)))
  (export (;12;) "compsnap-dump-c2" (func 11))
)
