; 512-byte boot sector for the real QEMU migration test: enter 32-bit protected mode,
; then increment one dword in each 4 KiB page of 4 MiB at 2 MiB, with a delay loop
; between rounds, so pre-copy keeps finding the same 1024 pages dirty. After the RTC
; seconds register has changed DIRTY_SECONDS times the guest halts, so the migration
; converges on its own (no outside trigger racing QEMU's bitmap syncs).
%ifndef DIRTY_SECONDS
%define DIRTY_SECONDS 3
%endif
bits 16
org 0x7c00
start:
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7c00
  in al, 0x92
  or al, 2
  out 0x92, al
  lgdt [gdt_desc]
  mov eax, cr0
  or eax, 1
  mov cr0, eax
  jmp 0x08:pm
bits 32
pm:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x90000
  mov ebx, DIRTY_SECONDS
  xor al, al
  out 0x70, al
  in al, 0x71
  mov dl, al
pass:
  mov edi, 0x200000
  mov ecx, 1024          ; 1024 pages = 4 MiB
dirty:
  inc dword [edi]
  add edi, 4096
  loop dirty
  mov ecx, 0x200000      ; delay
delay:
  loop delay
  xor al, al              ; RTC seconds
  out 0x70, al
  in al, 0x71
  cmp al, dl
  je pass
  mov dl, al
  dec ebx
  jnz pass
halt:
  hlt
  jmp halt
gdt:
  dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
gdt_desc:
  dw gdt_desc - gdt - 1
  dd gdt
times 510-($-$$) db 0
dw 0xaa55
