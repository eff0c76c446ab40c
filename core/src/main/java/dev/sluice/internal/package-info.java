/**
 * Not part of Sluice's API: hooks for Sluice's own modules, exported only to them (a qualified export).
 */
package dev.sluice.internal;
