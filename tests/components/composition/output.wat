(component
  (component $provider (;0;)
    (core module $tbl (;0;)
      (type $r (;0;) (func (param i32) (result i32)))
      (table (;0;) 2 funcref)
      (memory (;0;) 1)
      (export "t" (table 0))
      (export "m" (memory 0))
      (data (;0;) (i32.const 4) "\16\00\00\00\00\00\00\00,")
    )
    (core module $store (;1;)
      (type $r (;0;) (func (param i32) (result i32)))
      (type (;1;) (func (param i32 i32)))
      (type (;2;) (func (param i32 i32) (result i32)))
      (import "tbl" "t" (table (;0;) 2 funcref))
      (import "tbl" "m" (memory (;0;) 1))
      (export "put" (func 2))
      (export "get" (func 3))
      (export "register" (func 4))
      (export "apply" (func 5))
      (elem (;0;) declare func $square $neg)
      (elem (;1;) (i32.const 0) func $square $neg)
      (func $square (;0;) (type $r) (param i32) (result i32)
        local.get 0
        local.get 0
        i32.mul
      )
      (func $neg (;1;) (type $r) (param i32) (result i32)
        i32.const 0
        local.get 0
        i32.sub
      )
      (func (;2;) (type 1) (param i32 i32)
        local.get 0
        i32.const 2
        i32.shl
        local.get 1
        i32.store
      )
      (func (;3;) (type $r) (param i32) (result i32)
        local.get 0
        i32.const 2
        i32.shl
        i32.load
      )
      (func (;4;) (type 1) (param i32 i32)
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
    (type (;0;) (func (param "k" u32) (param "v" u32)))
    (alias core export $s "put" (core func (;0;)))
    (func (;0;) (type 0) (canon lift (core func 0)))
    (type (;1;) (func (param "k" u32) (result u32)))
    (alias core export $s "get" (core func (;1;)))
    (func (;1;) (type 1) (canon lift (core func 1)))
    (type (;2;) (func (param "slot" u32) (param "which" u32)))
    (alias core export $s "register" (core func (;2;)))
    (func (;2;) (type 2) (canon lift (core func 2)))
    (type (;3;) (func (param "slot" u32) (param "x" s32) (result s32)))
    (alias core export $s "apply" (core func (;3;)))
    (func (;3;) (type 3) (canon lift (core func 3)))
    (export (;4;) "put" (func 0))
    (export (;5;) "get" (func 1))
    (export (;6;) "register" (func 2))
    (export (;7;) "apply" (func 3))
  )
  (component $consumer (;1;)
    (type (;0;)
      (instance
        (type (;0;) (func (param "k" u32) (param "v" u32)))
        (export (;0;) "put" (func (type 0)))
        (type (;1;) (func (param "slot" u32) (param "which" u32)))
        (export (;1;) "register" (func (type 1)))
      )
    )
    (import "p" (instance $p (;0;) (type 0)))
    (alias export $p "put" (func (;0;)))
    (core func $put (;0;) (canon lower (func 0)))
    (alias export $p "register" (func (;1;)))
    (core func $reg (;1;) (canon lower (func 1)))
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
    (type (;1;) (func))
    (alias core export $ci "init" (core func (;2;)))
    (func (;2;) (type 1) (canon lift (core func 2)))
    (export (;3;) "init" (func 2))
  )
  (instance $prov (;0;) (instantiate $provider))
  (instance $cons (;1;) (instantiate $consumer
      (with "p" (instance $prov))
    )
  )
  (alias export $cons "init" (func (;0;)))
  (alias export $prov "get" (func (;1;)))
  (export (;2;) "get" (func 1))
  (alias export $prov "apply" (func (;3;)))
  (export (;4;) "apply" (func 3))
)
