(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (core module $m (;0;)
    (type $v (;0;) (func (result i32)))
    (type (;1;) (func))
    (global $g (;0;) (mut funcref) ref.null func)
    (global $h (;1;) (mut funcref) ref.func $nine)
    (global (;2;) (mut i32) i32.const 0)
    (global (;3;) (mut i32) i32.const -1)
    (export "init" (func 2))
    (export "run" (func 3))
    (export "__compsnap_global0" (global $g))
    (export "__compsnap_global1" (global $h))
    (export "__compsnap_probing" (global 2))
    (export "__compsnap_probe_out" (global 3))
    (elem (;0;) declare func $five)
    (func $five (;0;) (type $v) (result i32)
      global.get 2
      if ;; label = @1
        i32.const 0
        global.set 3
        i32.const 0
        return
      end
      i32.const 5
    )
    (func $nine (;1;) (type $v) (result i32)
      global.get 2
      if ;; label = @1
        i32.const 1
        global.set 3
        i32.const 0
        return
      end
      i32.const 9
    )
    (func (;2;) (type 1)
      global.get 2
      if ;; label = @1
        i32.const 2
        global.set 3
        return
      end
      ref.func $five
      global.set $g
      ref.null func
      global.set $h
    )
    (func (;3;) (type $v) (result i32)
      global.get 2
      if ;; label = @1
        i32.const 3
        global.set 3
        i32.const 0
        return
      end
      global.get $g
      ref.cast (ref $v)
      call_ref $v
      global.get $h
      ref.is_null
      i32.add
    )
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;2;) (func))
  (alias core export $i "init" (core func (;0;)))
  (func (;1;) (type 2) (canon lift (core func 0)))
  (type (;3;) (func (result u32)))
  (alias core export $i "run" (core func (;1;)))
  (func (;2;) (type 3) (canon lift (core func 1)))
  (export (;3;) "init" (func 1))
  (export (;4;) "run" (func 2))
  (type (;4;) (func))
  (core module (;1;)
    (memory (;0;) 1)
    (export "memory" (memory 0))
  )
  (core instance (;1;) (instantiate 1))
  (alias core export 1 "memory" (core memory (;0;)))
  (alias core export $i "__compsnap_global0" (core global (;0;)))
  (alias core export $i "__compsnap_global1" (core global (;1;)))
  (alias core export $i "__compsnap_probing" (core global (;2;)))
  (alias core export $i "__compsnap_probe_out" (core global (;3;)))
  (core func (;2;) (canon lower (func 0) (memory 0)))
  (core instance (;2;)
    (export "scratch" (memory 0))
    (export "put" (func 2))
    (export "rg0_0" (global 0))
    (export "rg0_1" (global 1))
    (export "probing0" (global 2))
    (export "out0" (global 3))
  )
  (core module (;2;)
    (type (;0;) (func (result i32)))
    (type (;1;) (func))
    (type (;2;) (func (param i32 i32 i32 i64 i64)))
    (type (;3;) (func))
    (type (;4;) (func (param i64)))
    (type (;5;) (func (result i64)))
    (type (;6;) (func (param i32)))
    (type (;7;) (func (param funcref) (result i64)))
    (import "a" "scratch" (memory (;0;) 0))
    (import "a" "put" (func (;0;) (type 2) (param i32 i32 i32 i64 i64)))
    (import "a" "rg0_0" (global (;0;) (mut funcref)))
    (import "a" "rg0_1" (global (;1;) (mut funcref)))
    (import "a" "probing0" (global (;2;) (mut i32)))
    (import "a" "out0" (global (;3;) (mut i32)))
    (table (;0;) 1 1 funcref)
    (global (;4;) (mut i32) i32.const 0)
    (export "dump" (func 1))
    (elem (;0;) declare func 1)
    (func (;1;) (type 3)
      (local i32 i32 i32 i32 i32)
      i32.const 1
      call 4
      i32.const 0
      global.set 4
      global.get 0
      call 5
      call 2
      global.get 1
      call 5
      call 2
      i32.const 0
      i32.const 0
      global.get 4
      i64.const 0
      i64.const 0
      call 0
      i32.const 0
      call 4
    )
    (func (;2;) (type 4) (param i64)
      global.get 4
      i32.const 8
      i32.add
      memory.size
      i32.const 16
      i32.shl
      i32.gt_u
      if ;; label = @1
        i32.const 16
        memory.grow
        drop
      end
      global.get 4
      local.get 0
      i64.store
      global.get 4
      i32.const 8
      i32.add
      global.set 4
    )
    (func (;3;) (type 5) (result i64)
      global.get 3
      i32.const -1
      i32.ne
      if ;; label = @1
        global.get 3
        i64.extend_i32_u
        i64.const 0
        i64.or
        i32.const -1
        global.set 3
        return
      end
      i64.const -3
    )
    (func (;4;) (type 6) (param i32)
      local.get 0
      global.set 2
    )
    (func (;5;) (type 7) (param funcref) (result i64)
      local.get 0
      ref.is_null
      if ;; label = @1
        i64.const -1
        return
      end
      i32.const 0
      local.get 0
      table.set 0
      i32.const 0
      call_indirect (type 0)
      drop
      call 3
    )
  )
  (core instance (;3;) (instantiate 2
      (with "a" (instance 2))
    )
  )
  (alias core export 3 "dump" (core func (;3;)))
  (func (;5;) (type 4) (canon lift (core func 3)))
  (export (;6;) "compsnap-dump" (func 5))
)
