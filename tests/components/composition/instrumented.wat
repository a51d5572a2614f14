(component
  (type (;0;) (list u8))
  (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
  (import "compsnap-sink" (func (;0;) (type 1)))
  (component $provider (;0;)
    (type (;0;) (list u8))
    (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
    (import "compsnap-sink" (func (;0;) (type 1)))
    (core module $tbl (;0;)
      (type $r (;0;) (func (param i32) (result i32)))
      (table (;0;) 2 funcref)
      (memory (;0;) 1)
      (global (;0;) (mut i32) i32.const 0)
      (global (;1;) (mut i32) i32.const -1)
      (export "t" (table 0))
      (export "m" (memory 0))
      (export "__compsnap_memory0" (memory 0))
      (export "__compsnap_table0" (table 0))
      (export "__compsnap_probing" (global 0))
      (export "__compsnap_probe_out" (global 1))
    )
    (core module $store (;1;)
      (type $r (;0;) (func (param i32) (result i32)))
      (type (;1;) (func (param i32 i32)))
      (type (;2;) (func (param i32 i32) (result i32)))
      (import "tbl" "t" (table (;0;) 2 funcref))
      (import "tbl" "m" (memory (;0;) 1))
      (global (;0;) (mut i32) i32.const 0)
      (global (;1;) (mut i32) i32.const -1)
      (export "put" (func 2))
      (export "get" (func 3))
      (export "register" (func 4))
      (export "apply" (func 5))
      (export "__compsnap_probing" (global 0))
      (export "__compsnap_probe_out" (global 1))
      (elem (;0;) declare func $square $neg)
      (func $square (;0;) (type $r) (param i32) (result i32)
        global.get 0
        if ;; label = @1
          i32.const 0
          global.set 1
          i32.const 0
          return
        end
        local.get 0
        local.get 0
        i32.mul
      )
      (func $neg (;1;) (type $r) (param i32) (result i32)
        global.get 0
        if ;; label = @1
          i32.const 1
          global.set 1
          i32.const 0
          return
        end
        i32.const 0
        local.get 0
        i32.sub
      )
      (func (;2;) (type 1) (param i32 i32)
        global.get 0
        if ;; label = @1
          i32.const 2
          global.set 1
          return
        end
        local.get 0
        i32.const 2
        i32.shl
        local.get 1
        i32.store
      )
      (func (;3;) (type $r) (param i32) (result i32)
        global.get 0
        if ;; label = @1
          i32.const 3
          global.set 1
          i32.const 0
          return
        end
        local.get 0
        i32.const 2
        i32.shl
        i32.load
      )
      (func (;4;) (type 1) (param i32 i32)
        global.get 0
        if ;; label = @1
          i32.const 4
          global.set 1
          return
        end
        local.get 1
        i32.eqz
        if ;; label = @1
          local.get 0
          ref.func $square
          table.set 0
        else
          local.get 0
          ref.func $neg
          table.set 0
        end
      )
      (func (;5;) (type 2) (param i32 i32) (result i32)
        global.get 0
        if ;; label = @1
          i32.const 5
          global.set 1
          i32.const 0
          return
        end
        local.get 1
        local.get 0
        call_indirect (type $r)
      )
    )
    (core instance $t (;0;) (instantiate $tbl))
    (core instance $s (;1;) (instantiate $store
        (with "tbl" (instance $t))
      )
    )
    (type (;2;) (func (param "k" u32) (param "v" u32)))
    (alias core export $s "put" (core func (;0;)))
    (func (;1;) (type 2) (canon lift (core func 0)))
    (type (;3;) (func (param "k" u32) (result u32)))
    (alias core export $s "get" (core func (;1;)))
    (func (;2;) (type 3) (canon lift (core func 1)))
    (type (;4;) (func (param "slot" u32) (param "which" u32)))
    (alias core export $s "register" (core func (;2;)))
    (func (;3;) (type 4) (canon lift (core func 2)))
    (type (;5;) (func (param "slot" u32) (param "x" s32) (result s32)))
    (alias core export $s "apply" (core func (;3;)))
    (func (;4;) (type 5) (canon lift (core func 3)))
    (export (;5;) "put" (func 1))
    (export (;6;) "get" (func 2))
    (export (;7;) "register" (func 3))
    (export (;8;) "apply" (func 4))
    (type (;6;) (func))
    (core module (;2;)
      (memory (;0;) 1)
      (export "memory" (memory 0))
    )
    (core instance (;2;) (instantiate 2))
    (alias core export 2 "memory" (core memory (;0;)))
    (alias core export $t "__compsnap_memory0" (core memory (;1;)))
    (alias core export $t "__compsnap_table0" (core table (;0;)))
    (alias core export $t "__compsnap_probing" (core global (;0;)))
    (alias core export $t "__compsnap_probe_out" (core global (;1;)))
    (alias core export $s "__compsnap_probing" (core global (;2;)))
    (alias core export $s "__compsnap_probe_out" (core global (;3;)))
    (core func (;4;) (canon lower (func 0) (memory 0)))
    (core func (;5;) (canon lower (func 0) (memory 1)))
    (core instance (;3;)
      (export "scratch" (memory 0))
      (export "put" (func 4))
      (export "m0" (memory 1))
      (export "p0" (func 5))
      (export "t1" (table 0))
      (export "probing0" (global 0))
      (export "out0" (global 1))
      (export "probing1" (global 2))
      (export "out1" (global 3))
    )
    (core module (;3;)
      (type (;0;) (func (param i32) (result i32)))
      (type (;1;) (func (param i32) (result i32)))
      (type (;2;) (func (param i32 i32)))
      (type (;3;) (func (param i32 i32) (result i32)))
      (type (;4;) (func (param i32 i32 i32 i64 i64)))
      (type (;5;) (func))
      (type (;6;) (func (param i64)))
      (type (;7;) (func (result i64)))
      (type (;8;) (func (param i32)))
      (type (;9;) (func (param funcref) (result i64)))
      (import "a" "scratch" (memory (;0;) 0))
      (import "a" "put" (func (;0;) (type 4) (param i32 i32 i32 i64 i64)))
      (import "a" "m0" (memory (;1;) 0))
      (import "a" "p0" (func (;1;) (type 4) (param i32 i32 i32 i64 i64)))
      (import "a" "t1" (table (;0;) 0 funcref))
      (import "a" "probing0" (global (;0;) (mut i32)))
      (import "a" "out0" (global (;1;) (mut i32)))
      (import "a" "probing1" (global (;2;) (mut i32)))
      (import "a" "out1" (global (;3;) (mut i32)))
      (table (;1;) 1 1 funcref)
      (global (;4;) (mut i32) i32.const 0)
      (export "dump" (func 2))
      (elem (;0;) declare func 2)
      (func (;2;) (type 5)
        (local i32 i32 i32 i32 i32)
        memory.size 1
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
            call 1
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
        call 5
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
            call 6
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
        i32.const 1
        i32.const 0
        global.get 4
        i64.const 0
        i64.const 0
        call 0
        i32.const 0
        call 5
      )
      (func (;3;) (type 6) (param i64)
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
      (func (;4;) (type 7) (result i64)
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
      (func (;5;) (type 8) (param i32)
        local.get 0
        global.set 0
        local.get 0
        global.set 2
      )
      (func (;6;) (type 9) (param funcref) (result i64)
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
        call_indirect 1 (type 1)
        drop
        call 4
      )
    )
    (core instance (;4;) (instantiate 3
        (with "a" (instance 3))
      )
    )
    (alias core export 4 "dump" (core func (;6;)))
    (func (;9;) (type 6) (canon lift (core func 6)))
    (export (;10;) "compsnap-dump" (func 9))
  )
  (component $consumer (;1;)
    (type (;0;) (list u8))
    (type (;1;) (func (param "tag" u32) (param "data" 0) (param "lo" u64) (param "hi" u64)))
    (import "compsnap-sink" (func (;0;) (type 1)))
    (type (;2;)
      (instance
        (type (;0;) (func (param "k" u32) (param "v" u32)))
        (export (;0;) "put" (func (type 0)))
        (type (;1;) (func (param "slot" u32) (param "which" u32)))
        (export (;1;) "register" (func (type 1)))
      )
    )
    (import "p" (instance $p (;0;) (type 2)))
    (alias export $p "put" (func (;1;)))
    (core func $put (;0;) (canon lower (func 1)))
    (alias export $p "register" (func (;2;)))
    (core func $reg (;1;) (canon lower (func 2)))
    (core module $c (;0;)
      (type (;0;) (func (param i32 i32)))
      (type (;1;) (func))
      (import "p" "put" (func $put (;0;) (type 0) (param i32 i32)))
      (import "p" "reg" (func $reg (;1;) (type 0) (param i32 i32)))
      (export "init" (func 2))
      (func (;2;) (type 1)
        i32.const 1
        i32.const 22
        call $put
        i32.const 3
        i32.const 44
        call $put
        i32.const 0
        i32.const 0
        call $reg
        i32.const 1
        i32.const 1
        call $reg
      )
    )
    (core instance (;0;)
      (export "put" (func $put))
      (export "reg" (func $reg))
    )
    (core instance $ci (;1;) (instantiate $c
        (with "p" (instance 0))
      )
    )
    (type (;3;) (func))
    (alias core export $ci "init" (core func (;2;)))
    (func (;3;) (type 3) (canon lift (core func 2)))
    (export (;4;) "init" (func 3))
    (type (;4;) (func))
    (core instance (;2;))
    (core module (;1;)
      (type (;0;) (func (param i32 i32 i32 i64 i64)))
      (type (;1;) (func))
      (export "dump" (func 0))
      (func (;0;) (type 1)
        (local i32 i32 i32 i32 i32)
      )
    )
    (core instance (;3;) (instantiate 1
        (with "a" (instance 2))
      )
    )
    (alias core export 3 "dump" (core func (;3;)))
    (func (;5;) (type 4) (canon lift (core func 3)))
    (export (;6;) "compsnap-dump" (func 5))
  )
  (instance $prov (;0;) (instantiate $provider
      (with "compsnap-sink" (func 0))
    )
  )
  (instance $cons (;1;) (instantiate $consumer
      (with "p" (instance $prov))
      (with "compsnap-sink" (func 0))
    )
  )
  (alias export $cons "init" (func (;1;)))
  (export (;2;) "init" (func 1))
  (alias export $prov "get" (func (;3;)))
  (export (;4;) "get" (func 3))
  (alias export $prov "apply" (func (;5;)))
  (export (;6;) "apply" (func 5))
  (alias export $prov "compsnap-dump" (func (;7;)))
  (export (;8;) "compsnap-dump-c0" (func 7))
  (alias export $cons "compsnap-dump" (func (;9;)))
  (export (;10;) "compsnap-dump-c1" (func 9))
)
