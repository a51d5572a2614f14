(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (core module $m (;0;)
    (type (;0;) (func))
    (type (;1;) (func (result i32)))
    (memory (;0;) 1)
    (global $g (;0;) (mut i32) i32.const 0)
    (export "memory" (memory 0))
    (export "componentize.wizer" (func 0))
    (export "get" (func 1))
    (export "__compsnap_memory0" (memory 0))
    (export "__compsnap_global0" (global $g))
    (func (;0;) (type 0)
      i32.const 42
      global.set $g
      i32.const 16
      i32.const 7
      i32.store
    )
    (func (;1;) (type 1) (result i32)
      global.get $g
      i32.const 16
      i32.load
      i32.add
    )
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;2;) (func (result s32)))
  (alias core export $i "get" (core func (;0;)))
  (func (;1;) (type 2) (canon lift (core func 0)))
  (export (;2;) "get" (func 1))
  (alias core export $i "componentize.wizer" (core func (;1;)))
  (type (;3;) (func))
  (func (;3;) (type 3) (canon lift (core func 1)))
  (export (;4;) "compsnap-init" (func 3))
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
