(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (core module $m (;0;)
    (type (;0;) (func))
    (type (;1;) (func (result i64)))
    (memory (;0;) 1)
    (global $count (;0;) (mut i32) i32.const 0)
    (global $big (;1;) (mut i64) i64.const 0)
    (global $fixed (;2;) i32 i32.const 9)
    (export "memory" (memory 0))
    (export "wizer-initialize" (func 0))
    (export "run" (func 1))
    (export "__compsnap_memory0" (memory 0))
    (export "__compsnap_global0" (global $count))
    (export "__compsnap_global1" (global $big))
    (func (;0;) (type 0)
      i32.const 1
      memory.grow
      drop
      i32.const 100
      i32.const -1430532899
      i32.store
      i32.const 16
      i32.const 72
      i32.store8
      i32.const 70000
      i64.const 72623859790382856
      i64.store
      i32.const 3
      global.set $count
      i64.const -5
      global.set $big
    )
    (func (;1;) (type 1) (result i64)
      i32.const 100
      i32.load
      i32.const 16
      i32.load8_u
      i32.add
      global.get $count
      global.get $fixed
      i32.add
      i32.add
      i64.extend_i32_u
      global.get $big
      i32.const 70000
      i64.load
      i64.add
      i64.add
    )
    (data (;0;) (i32.const 16) "hello")
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;2;) (func))
  (alias core export $i "wizer-initialize" (core func (;0;)))
  (func (;1;) (type 2) (canon lift (core func 0)))
  (type (;3;) (func (result s64)))
  (alias core export $i "run" (core func (;1;)))
  (func (;2;) (type 3) (canon lift (core func 1)))
  (export (;3;) "wizer-initialize" (func 1))
  (export (;4;) "run" (func 2))
  (type (;4;) (func))
  (alias core export $i "__compsnap_memory0" (core memory (;0;)))
  (alias core export $i "__compsnap_global0" (core global (;0;)))
  (alias core export $i "__compsnap_global1" (core global (;1;)))
  (core func (;2;) (canon lower (func 0) (memory 0)))
  (core instance (;1;)
    (export "m0" (memory 0))
    (export "p0" (func 2))
    (export "g1_0" (global 0))
    (export "g1_1" (global 1))
  )
  (core module (;1;)
    (type (;0;) (func (param i32 i32 i32 i64 i64)))
    (type (;1;) (func))
    (import "a" "m0" (memory (;0;) 0))
    (import "a" "p0" (func (;0;) (type 0) (param i32 i32 i32 i64 i64)))
    (import "a" "g1_0" (global (;0;) (mut i32)))
    (import "a" "g1_1" (global (;1;) (mut i64)))
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
      i32.const 1
      i32.const 0
      i32.const 0
      global.get 1
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
