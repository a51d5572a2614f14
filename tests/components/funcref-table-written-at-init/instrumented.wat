(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (core module $m (;0;)
    (type $ii (;0;) (func (param i32) (result i32)))
    (type (;1;) (func))
    (type (;2;) (func (param i32 i32) (result i32)))
    (type (;3;) (func (result i32)))
    (table $t (;0;) 2 funcref)
    (global (;0;) (mut i32) i32.const 0)
    (global (;1;) (mut i32) i32.const -1)
    (export "init" (func 3))
    (export "call" (func 4))
    (export "size" (func 5))
    (export "__compsnap_table0" (table $t))
    (export "__compsnap_probing" (global 0))
    (export "__compsnap_probe_out" (global 1))
    (elem (;0;) (i32.const 0) func $inc)
    (elem (;1;) declare func $dbl $neg)
    (func $inc (;0;) (type $ii) (param i32) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 0
        global.set 1
        i32.const 0
        return
      end
      local.get 0
      i32.const 1
      i32.add
    )
    (func $dbl (;1;) (type $ii) (param i32) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 1
        global.set 1
        i32.const 0
        return
      end
      local.get 0
      i32.const 2
      i32.mul
    )
    (func $neg (;2;) (type $ii) (param i32) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 2
        global.set 1
        i32.const 0
        return
      end
      i32.const 0
      local.get 0
      i32.sub
    )
    (func (;3;) (type 1)
      global.get 0
      if ;; label = @1
        i32.const 3
        global.set 1
        return
      end
      ref.func $dbl
      i32.const 3
      table.grow $t
      drop
      i32.const 1
      ref.func $neg
      table.set $t
      i32.const 3
      ref.null func
      table.set $t
    )
    (func (;4;) (type 2) (param i32 i32) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 4
        global.set 1
        i32.const 0
        return
      end
      local.get 1
      local.get 0
      call_indirect (type $ii)
    )
    (func (;5;) (type 3) (result i32)
      global.get 0
      if ;; label = @1
        i32.const 5
        global.set 1
        i32.const 0
        return
      end
      table.size $t
    )
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;2;) (func))
  (alias core export $i "init" (core func (;0;)))
  (func (;1;) (type 2) (canon lift (core func 0)))
  (type (;3;) (func (param "slot" u32) (param "x" u32) (result u32)))
  (alias core export $i "call" (core func (;1;)))
  (func (;2;) (type 3) (canon lift (core func 1)))
  (type (;4;) (func (result u32)))
  (alias core export $i "size" (core func (;2;)))
  (func (;3;) (type 4) (canon lift (core func 2)))
  (export (;4;) "init" (func 1))
  (export (;5;) "call" (func 2))
  (export (;6;) "size" (func 3))
  (type (;5;) (func))
  (core module (;1;)
    (memory (;0;) 1)
    (export "memory" (memory 0))
  )
  (core instance (;1;) (instantiate 1))
  (alias core export 1 "memory" (core memory (;0;)))
  (alias core export $i "__compsnap_table0" (core table (;0;)))
  (alias core export $i "__compsnap_probing" (core global (;0;)))
  (alias core export $i "__compsnap_probe_out" (core global (;1;)))
  (core func (;3;) (canon lower (func 0) (memory 0)))
  (core instance (;2;)
    (export "scratch" (memory 0))
    (export "put" (func 3))
    (export "t0" (table 0))
    (export "probing0" (global 0))
    (export "out0" (global 1))
  )
  (core module (;2;)
    (type (;0;) (func (param i32) (result i32)))
    (type (;1;) (func))
    (type (;2;) (func (param i32 i32) (result i32)))
    (type (;3;) (func (result i32)))
    (type (;4;) (func (param i32 i32 i32 i64 i64)))
    (type (;5;) (func))
    (type (;6;) (func (param i64)))
    (type (;7;) (func (result i64)))
    (type (;8;) (func (param i32)))
    (type (;9;) (func (param funcref) (result i64)))
    (import "a" "scratch" (memory (;0;) 0))
    (import "a" "put" (func (;0;) (type 4) (param i32 i32 i32 i64 i64)))
    (import "a" "t0" (table (;0;) 0 funcref))
    (import "a" "probing0" (global (;0;) (mut i32)))
    (import "a" "out0" (global (;1;) (mut i32)))
    (table (;1;) 1 1 funcref)
    (global (;2;) (mut i32) i32.const 0)
    (export "dump" (func 1))
    (elem (;0;) declare func 1)
    (func (;1;) (type 5)
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
      global.set 2
      i32.const 0
      i32.const 0
      global.get 2
      i64.const 0
      i64.const 0
      call 0
      i32.const 0
      call 4
    )
    (func (;2;) (type 6) (param i64)
      global.get 2
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
      global.get 2
      local.get 0
      i64.store
      global.get 2
      i32.const 8
      i32.add
      global.set 2
    )
    (func (;3;) (type 7) (result i64)
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
      i64.const -3
    )
    (func (;4;) (type 8) (param i32)
      local.get 0
      global.set 0
    )
    (func (;5;) (type 9) (param funcref) (result i64)
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
      i32.const 0
      call_indirect 1 (type 0)
      drop
      call 3
    )
  )
  (core instance (;3;) (instantiate 2
      (with "a" (instance 2))
    )
  )
  (alias core export 3 "dump" (core func (;4;)))
  (func (;7;) (type 5) (canon lift (core func 4)))
  (export (;8;) "compsnap-dump" (func 7))
)
