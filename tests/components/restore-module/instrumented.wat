(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (core module $b (;0;)
    (type $v (;0;) (func (result i32)))
    (type (;1;) (func (param funcref)))
    (table $private (;0;) 1 funcref)
    (global (;0;) (mut i32) i32.const 0)
    (global (;1;) (mut i32) i32.const -1)
    (export "keep" (func 0))
    (export "call" (func 1))
    (export "__compsnap_table0" (table $private))
    (export "__compsnap_probing" (global 0))
    (export "__compsnap_probe_out" (global 1))
    (func (;0;) (type 1) (param funcref)
      global.get 0
      if ;; label = @1
        i32.const 0
        global.set 1
        return
      end
      i32.const 0
      local.get 0
      table.set $private
    )
    (func (;1;) (type $v) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 1
        global.set 1
        i32.const 0
        return
      end
      i32.const 0
      call_indirect (type $v)
    )
  )
  (core instance $ib (;0;) (instantiate $b))
  (core module $a (;1;)
    (type $v (;0;) (func (result i32)))
    (type (;1;) (func (param funcref)))
    (type (;2;) (func))
    (import "b" "keep" (func $keep (;0;) (type 1) (param funcref)))
    (global (;0;) (mut i32) i32.const 0)
    (global (;1;) (mut i32) i32.const -1)
    (export "init" (func 2))
    (export "__compsnap_probing" (global 0))
    (export "__compsnap_probe_out" (global 1))
    (elem (;0;) declare func $secret)
    (func $secret (;1;) (type $v) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 1
        global.set 1
        i32.const 0
        return
      end
      i32.const 1234
    )
    (func (;2;) (type 2)
      global.get 0
      if ;; label = @1
        i32.const 2
        global.set 1
        return
      end
      ref.func $secret
      call $keep
    )
  )
  (core instance $ia (;1;) (instantiate $a
      (with "b" (instance $ib))
    )
  )
  (type (;2;) (func))
  (alias core export $ia "init" (core func (;0;)))
  (func (;1;) (type 2) (canon lift (core func 0)))
  (type (;3;) (func (result u32)))
  (alias core export $ib "call" (core func (;1;)))
  (func (;2;) (type 3) (canon lift (core func 1)))
  (export (;3;) "init" (func 1))
  (export (;4;) "call" (func 2))
  (type (;4;) (func))
  (core module (;2;)
    (memory (;0;) 1)
    (export "memory" (memory 0))
  )
  (core instance (;2;) (instantiate 2))
  (alias core export 2 "memory" (core memory (;0;)))
  (alias core export $ib "__compsnap_table0" (core table (;0;)))
  (alias core export $ib "__compsnap_probing" (core global (;0;)))
  (alias core export $ib "__compsnap_probe_out" (core global (;1;)))
  (alias core export $ia "__compsnap_probing" (core global (;2;)))
  (alias core export $ia "__compsnap_probe_out" (core global (;3;)))
  (core func (;2;) (canon lower (func 0) (memory 0)))
  (core instance (;3;)
    (export "scratch" (memory 0))
    (export "put" (func 2))
    (export "t0" (table 0))
    (export "probing0" (global 0))
    (export "out0" (global 1))
    (export "probing1" (global 2))
    (export "out1" (global 3))
  )
  (core module (;3;)
    (type (;0;) (func (result i32)))
    (type (;1;) (func (param funcref)))
    (type (;2;) (func (result i32)))
    (type (;3;) (func (param funcref)))
    (type (;4;) (func))
    (type (;5;) (func (param i32 i32 i32 i64 i64)))
    (type (;6;) (func))
    (type (;7;) (func (param i64)))
    (type (;8;) (func (result i64)))
    (type (;9;) (func (param i32)))
    (type (;10;) (func (param funcref) (result i64)))
    (import "a" "scratch" (memory (;0;) 0))
    (import "a" "put" (func (;0;) (type 5) (param i32 i32 i32 i64 i64)))
    (import "a" "t0" (table (;0;) 0 funcref))
    (import "a" "probing0" (global (;0;) (mut i32)))
    (import "a" "out0" (global (;1;) (mut i32)))
    (import "a" "probing1" (global (;2;) (mut i32)))
    (import "a" "out1" (global (;3;) (mut i32)))
    (table (;1;) 1 1 funcref)
    (global (;4;) (mut i32) i32.const 0)
    (export "dump" (func 1))
    (elem (;0;) declare func 1)
    (func (;1;) (type 6)
      (local i32 i32 i32 i32 i32)
      i32.const 1
      call 4
      table.size 0
      local.set 4
      local.get 4
      i64.extend_i32_u
      i64.const 3
      i64.shl
      i64.const 65535
      i64.add
      i64.const 16
      i64.shr_u
      i32.wrap_i64
      local.tee 0
      memory.size
      i32.gt_u
      if ;; label = @1
        local.get 0
        memory.size
        i32.sub
        memory.grow
        i32.const -1
        i32.eq
        if ;; label = @2
          unreachable
        end
      end
      i32.const 0
      local.set 3
      block ;; label = @1
        loop ;; label = @2
          local.get 3
          local.get 4
          i32.ge_u
          br_if 1 (;@1;)
          local.get 3
          i32.const 3
          i32.shl
          local.get 3
          table.get 0
          call 5
          i64.store
          local.get 3
          i32.const 1
          i32.add
          local.set 3
          br 0 (;@2;)
        end
      end
      local.get 4
      i32.const 3
      i32.shl
      global.set 4
      i32.const 0
      i32.const 0
      global.get 4
      i64.const 0
      i64.const 0
      call 0
      i32.const 0
      call 4
    )
    (func (;2;) (type 7) (param i64)
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
    (func (;3;) (type 8) (result i64)
      global.get 1
      i32.const -1
      i32.ne
      if ;; label = @1
        global.get 1
        i64.extend_i32_u
        i64.const 0
        i64.or
        i32.const -1
        global.set 1
        return
      end
      global.get 3
      i32.const -1
      i32.ne
      if ;; label = @1
        global.get 3
        i64.extend_i32_u
        i64.const 4294967296
        i64.or
        i32.const -1
        global.set 3
        return
      end
      i64.const -3
    )
    (func (;4;) (type 9) (param i32)
      local.get 0
      global.set 0
      local.get 0
      global.set 2
    )
    (func (;5;) (type 10) (param funcref) (result i64)
      local.get 0
      ref.is_null
      if ;; label = @1
        i64.const -1
        return
      end
      i32.const 0
      local.get 0
      table.set 1
      i32.const 0
      call_indirect 1 (type 2)
      drop
      call 3
    )
  )
  (core instance (;4;) (instantiate 3
      (with "a" (instance 3))
    )
  )
  (alias core export 4 "dump" (core func (;3;)))
  (func (;5;) (type 4) (canon lift (core func 3)))
  (export (;6;) "compsnap-dump" (func 5))
)
