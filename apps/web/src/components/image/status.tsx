import { Badge, Spinner } from '../ui';

export function ImageStatus({ status }: { status: string }) {
  const tone =
    status === 'active' ? 'green' : status === 'killed' ? 'red' : status === 'deactivated' ? 'slate' : 'amber';
  return (
    <span data-testid="image-status" data-status={status} className="inline-flex">
      <Badge tone={tone}>
        <span className="inline-flex items-center gap-1.5">
          {(status === 'saving' || status === 'importing') && <Spinner className="size-3" />}
          {status}
        </span>
      </Badge>
    </span>
  );
}
