import { SystemStatus } from './system-status';

export default function Home() {
  return (
    <main className="mx-auto max-w-5xl p-8">
      <header className="mb-8 flex items-center justify-between">
        <h1 className="text-2xl font-semibold tracking-tight">
          <span className="text-sky-600">Stratus</span> dashboard
        </h1>
      </header>
      <SystemStatus />
    </main>
  );
}
