(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (core module $m (;0;)
    (type (;0;) (func (param i32 i32 i32 i32) (result i32)))
    (type (;1;) (func (param i32 i32 i32)))
    (type (;2;) (func (result i32)))
    (memory (;0;) 1)
    (global $heap (;0;) (mut i32) i32.const 1024)
    (global $n (;1;) (mut i32) i32.const 0)
    (export "memory" (memory 0))
    (export "realloc" (func 0))
    (export "setup" (func 1))
    (export "get" (func 2))
    (export "__compsnap_memory0" (memory 0))
    (export "__compsnap_global0" (global $heap))
    (export "__compsnap_global1" (global $n))
    (func (;0;) (type 0) (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      global.get $heap
      local.set $p
      global.get $heap
      local.get 3
      i32.add
      global.set $heap
      local.get $p
    )
    (func (;1;) (type 1) (param $n i32) (param $ptr i32) (param $len i32)
      local.get $n
      local.get $len
      i32.mul
      global.set $n
      i32.const 64
      local.get $ptr
      local.get $len
      memory.copy
    )
    (func (;2;) (type 2) (result i32)
      global.get $n
      i32.const 1000
      i32.mul
      i32.const 64
      i32.load8_u
      i32.add
    )
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;2;) (func (param "n" u32) (param "name" string)))
  (alias core export $i "setup" (core func (;0;)))
  (alias core export $i "memory" (core memory (;0;)))
  (alias core export $i "realloc" (core func (;1;)))
  (func (;1;) (type 2) (canon lift (core func 0) (memory 0) (realloc 1)))
  (type (;3;) (func (result u32)))
  (alias core export $i "get" (core func (;2;)))
  (func (;2;) (type 3) (canon lift (core func 2)))
  (export (;3;) "setup" (func 1))
  (export (;4;) "get" (func 2))
  (type (;4;) (func))
  (alias core export $i "__compsnap_memory0" (core memory (;1;)))
  (alias core export $i "__compsnap_global0" (core global (;0;)))
  (alias core export $i "__compsnap_global1" (core global (;1;)))
  (core func (;3;) (canon lower (func 0) (memory 1)))
  (core instance (;1;)
    (export "m0" (memory 1))
    (export "p0" (func 3))
    (export "g1_0" (global 0))
    (export "g1_1" (global 1))
  )
  (core module (;1;)
    (type (;0;) (func (param i32 i32 i32 i64 i64)))
    (type (;1;) (func))
    (import "a" "m0" (memory (;0;) 0))
    (import "a" "p0" (func (;0;) (type 0) (param i32 i32 i32 i64 i64)))
    (import "a" "g1_0" (global (;0;) (mut i32)))
    (import "a" "g1_1" (global (;1;) (mut i32)))
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
      i64.extend_i32_u
      i64.const 0
      call 0
    )
  )
  (core instance (;2;) (instantiate 1
      (with "a" (instance 1))
    )
  )
  (alias core export 2 "dump" (core func (;4;)))
  (func (;5;) (type 4) (canon lift (core func 4)))
  (export (;6;) "compsnap-dump" (func 5))
)
