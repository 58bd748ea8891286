/* Freestanding stand-in: the UEFI build needs nothing from windows.h. */
